-- The first question an analyst asks of `events`: its data fields, filtered by type.
SELECT year, count(*) FILTER (WHERE result = 'violation') AS violations, count(*) AS inspections,
       sum(fine_vnd) AS fines
FROM events
WHERE type = 'inspection.done'
GROUP BY year
ORDER BY year;
