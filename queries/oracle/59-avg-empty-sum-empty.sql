SELECT year, avg(fine_vnd) AS a, sum(fine_vnd) AS s, count(fine_vnd) AS c FROM inspections
WHERE result = 'compliant' GROUP BY year ORDER BY year
