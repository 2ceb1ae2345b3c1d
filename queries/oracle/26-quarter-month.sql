-- Tips by quarter and month of 2023.
SELECT quarter(occurred_at) AS q, month(occurred_at) AS m, count(*) AS n FROM tips
WHERE year(occurred_at) = 2023 GROUP BY ALL ORDER BY q, m
