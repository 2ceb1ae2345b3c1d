-- Provinces ranked by fines within each year since 2023.
SELECT year, province_now, sum(fine_vnd) AS fines,
       rank() OVER (PARTITION BY year ORDER BY sum(fine_vnd) DESC) AS r
FROM inspections WHERE year >= 2023 AND fine_vnd IS NOT NULL
GROUP BY year, province_now ORDER BY year, r, province_now
