-- Persons supported per year and the supports per person.
SELECT year, count(DISTINCT person) AS persons, count(*) AS supports,
       round(count(*) / count(DISTINCT person), 4) AS per_person
FROM supports GROUP BY year ORDER BY year
