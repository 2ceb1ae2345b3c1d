-- Integer and real division and modulo; real division by zero is infinity (as in DuckDB 2.0;
-- // and % by zero are errors in both).
SELECT participants // 7 AS a, participants / 7 AS b, participants % 7 AS c,
       participants / 0 AS e, -participants // 7 AS f, -participants % 7 AS g
FROM trainings ORDER BY seq LIMIT 10
