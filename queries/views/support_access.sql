-- support_access: per province (today's map) and year, the persons who received social
-- support for community reintegration, and the supports given by kind.
-- Rule: a person counts once a year however many supports they received; persons are
-- pseudonyms (counts of persons are small cells for the analyst role).
SELECT province_now, year,
       count(DISTINCT person) AS persons,
       count(*) AS supports,
       count(*) FILTER (WHERE kind = 'counselling') AS counselling,
       count(*) FILTER (WHERE kind = 'health') AS health,
       count(*) FILTER (WHERE kind = 'hiv_services') AS hiv_services,
       count(*) FILTER (WHERE kind = 'vocational_training') AS vocational_training,
       count(*) FILTER (WHERE kind = 'job_placement') AS job_placement,
       count(*) FILTER (WHERE kind = 'loan') AS loan,
       count(*) FILTER (WHERE kind = 'legal_aid') AS legal_aid,
       count(*) FILTER (WHERE kind = 'allowance') AS allowance,
       count(amount_vnd) AS supports_with_amount,
       sum(amount_vnd) AS amount_vnd
FROM supports
GROUP BY province_now, year
