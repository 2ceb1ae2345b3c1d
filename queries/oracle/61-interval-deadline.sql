-- Timeliness with INTERVAL: tips verified within 20 days of being received (Criminal Procedure
-- Code art. 147), per year, and within a calendar month.
SELECT t.year,
       count(*) AS tips,
       count(v.case_id) FILTER (WHERE v.occurred_at <= t.occurred_at + INTERVAL '20 days') AS in_20_days,
       count(v.case_id) FILTER (WHERE v.occurred_at < t.occurred_at + INTERVAL 1 MONTH) AS in_a_month
FROM tips t LEFT JOIN verifications v ON v.case_id = t.case_id
GROUP BY t.year
ORDER BY t.year
