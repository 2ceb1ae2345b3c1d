-- Support amounts by kind: sums, averages, extremes (NULL amounts ignored).
SELECT kind, count(amount_vnd) AS paid, sum(amount_vnd) AS total, avg(amount_vnd) AS mean,
       min(amount_vnd) AS least, max(amount_vnd) AS most
FROM supports GROUP BY kind ORDER BY kind
