-- CASE, COALESCE and NULLIF.
SELECT CASE WHEN fine_vnd >= 20000000 THEN 'large' WHEN fine_vnd > 0 THEN 'small' ELSE 'none' END AS size,
       count(*) AS n, sum(coalesce(fine_vnd, 0)) AS total, count(nullif(sanction, 'none')) AS sanctioned
FROM inspections GROUP BY ALL ORDER BY size
