-- A scalar subquery with no row is NULL.
SELECT count(*) AS n, (SELECT max(fine_vnd) FROM inspections WHERE year = 1999) AS none FROM inspections
