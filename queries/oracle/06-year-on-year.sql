-- Year-on-year change of supports, with a window over the aggregate.
SELECT year, count(*) AS n, count(*) - lag(count(*)) OVER (ORDER BY year) AS change,
       sum(count(*)) OVER (ORDER BY year) AS running
FROM supports GROUP BY year ORDER BY year
