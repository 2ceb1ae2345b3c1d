-- Outreach reach by form and audience with integer and real averages.
SELECT form, audience, sum(reached) // count(*) AS mean_int, avg(reached) AS mean
FROM outreach GROUP BY form, audience ORDER BY form, audience
