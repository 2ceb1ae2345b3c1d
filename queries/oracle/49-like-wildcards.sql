-- LIKE with _ and %.
SELECT unit, count(*) AS n FROM events WHERE unit LIKE 'VN-__' AND unit NOT LIKE '%H%' GROUP BY unit ORDER BY unit
