-- Every type's numbers from the one wide table: NULL where a type has no such field.
SELECT type, count(*) AS n, sum(amount_vnd) AS amount, sum(fine_vnd) AS fines,
       sum(reached) AS reached, sum(participants) AS participants,
       sum(amount_million_vnd) AS budget, count(kind) AS kinds, count(level) AS levels,
       count(reason) AS reasons, count(name) AS names
FROM events
GROUP BY type
ORDER BY type;
