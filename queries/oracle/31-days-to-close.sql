-- Average days from tip to closing by plan period.
SELECT plan_period(t.occurred_at) AS period, count(*) AS closed,
       avg(date_diff('day', t.occurred_at, c.occurred_at)) AS days
FROM tips t JOIN closures c ON c.case_id = t.case_id GROUP BY ALL ORDER BY period
