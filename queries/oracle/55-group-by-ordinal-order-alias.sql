SELECT year AS y, count(*) AS n FROM trainings GROUP BY 1 ORDER BY n DESC, y LIMIT 5
