SELECT outcome, count(*) AS closures
FROM events
WHERE outcome IS NOT NULL
GROUP BY outcome
ORDER BY closures DESC, outcome
LIMIT 12;
