-- Each kind's share of all support, from a CTE and a scalar subquery.
WITH k AS (SELECT kind, count(*) AS n FROM supports GROUP BY kind)
SELECT kind, n, round(n * 100.0 / (SELECT count(*) FROM supports), 3) AS pct FROM k ORDER BY n DESC, kind
