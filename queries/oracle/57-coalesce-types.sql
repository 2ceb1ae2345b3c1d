-- coalesce over BIGINT and DOUBLE gives DOUBLE.
SELECT coalesce(amount_vnd, 0.5) AS amount, count(*) AS n FROM supports WHERE year = 2015 GROUP BY 1 ORDER BY 1 LIMIT 5
