-- BETWEEN and IN lists on years and teams.
SELECT team, count(*) AS n FROM inspections
WHERE year BETWEEN 2016 AND 2020 AND team IN ('police', 'culture', 'health')
GROUP BY team ORDER BY team
