-- training_coverage: per province (today's map) and year, the trainings held for the staff and
-- collaborators of the programme, and how many took part, by level.
-- Rule: participants are counted as reported by each training (a person trained twice counts
-- twice: the source documents count attendances).
SELECT province_now, year,
       count(*) AS trainings,
       sum(participants) AS participants,
       sum(participants) FILTER (WHERE level = 'province') AS province_level,
       sum(participants) FILTER (WHERE level = 'district') AS district_level,
       sum(participants) FILTER (WHERE level = 'commune') AS commune_level
FROM trainings
GROUP BY province_now, year
