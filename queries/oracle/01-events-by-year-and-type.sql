-- Trend: events by year and type.
SELECT year, type, count(*) AS n FROM events GROUP BY year, type ORDER BY year, type
