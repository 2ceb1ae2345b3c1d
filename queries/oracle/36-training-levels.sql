-- Trainings by level and audience since 2021.
SELECT level, audience, count(*) AS n, sum(participants) AS people FROM trainings
WHERE occurred_at >= DATE '2021-01-01' GROUP BY ALL ORDER BY level, audience
