-- Distinct cases per unit, top 20.
SELECT unit, count(DISTINCT case_id) AS cases FROM events WHERE case_id IS NOT NULL
GROUP BY unit ORDER BY cases DESC, unit LIMIT 20
