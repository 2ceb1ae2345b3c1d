-- Days from tip to verification, late (over 20 days) by year.
SELECT t.year, count(*) AS verified,
       count(*) FILTER (WHERE date_diff('day', t.occurred_at, v.occurred_at) > 20) AS late,
       avg(date_diff('day', t.occurred_at, v.occurred_at)) AS avg_days
FROM tips t JOIN verifications v ON v.case_id = t.case_id
GROUP BY t.year ORDER BY t.year
