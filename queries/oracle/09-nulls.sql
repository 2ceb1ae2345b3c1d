-- NULL-heavy: events without a case, person or establishment, by type.
SELECT type, count(*) AS n, count(case_id) AS with_case, count(person) AS with_person,
       count(establishment) AS with_establishment
FROM events GROUP BY type ORDER BY type
