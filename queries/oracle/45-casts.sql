-- Casts between types.
SELECT CAST(year AS VARCHAR) || '-' || CAST(count(*) AS VARCHAR) AS label,
       CAST(avg(fine_vnd) AS BIGINT) AS mean_fine, sum(fine_vnd)::DOUBLE / 1000000 AS millions
FROM inspections GROUP BY year ORDER BY year
