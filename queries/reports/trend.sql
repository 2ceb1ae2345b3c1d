-- trend: the whole country, year by year: tips, inspections (and violations found), referrals,
-- persons supported and outreach, with the change on the year before.
SELECT year,
       count(*) FILTER (WHERE type = 'tip.received') AS tips,
       count(*) FILTER (WHERE type = 'inspection.done') AS inspections,
       count(*) FILTER (WHERE type = 'case.referred') AS referrals,
       count(DISTINCT person) FILTER (WHERE type = 'support.provided') AS persons_supported,
       count(*) FILTER (WHERE type = 'outreach.held') AS outreach,
       count(*) FILTER (WHERE type = 'tip.received')
         - lag(count(*) FILTER (WHERE type = 'tip.received')) OVER (ORDER BY year) AS tips_change
FROM events
WHERE year >= 2011 AND type NOT LIKE 'unit.%' AND type NOT LIKE 'plan.%' AND type NOT LIKE 'budget.%'
GROUP BY year
ORDER BY year
