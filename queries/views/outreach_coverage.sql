-- outreach_coverage: per province (today's map) and year, the outreach held: sessions, the
-- units that held at least one (indicator outreach_units counts them against all units) and
-- the people reached.
-- Rule: a unit "holds outreach" in a year when it held at least one session of any form.
SELECT province_now, year,
       count(*) AS sessions,
       count(DISTINCT unit) AS units_holding,
       sum(reached) AS reached
FROM outreach
GROUP BY province_now, year
