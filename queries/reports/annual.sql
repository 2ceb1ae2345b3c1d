-- annual: the year's report of the programme, per province as the map is today: what happened
-- in the year, as it was known at the reporting deadline.
-- Rule: the report is the state of the records at its deadline, 10 December (Circular
-- 02/2021/TT-BLĐTBXH's reporting calendar: yearly figures by 10 December); what was recorded
-- later belongs to the next report.
-- as of: 12-10 23:59:59
-- year: the report's year (--year; this year by default)
SELECT province_now,
       count(*) FILTER (WHERE type = 'tip.received') AS tips,
       count(*) FILTER (WHERE type = 'tip.verified') AS verified,
       count(*) FILTER (WHERE type = 'inspection.done') AS inspections,
       count(*) FILTER (WHERE type = 'case.referred') AS referrals,
       count(*) FILTER (WHERE type = 'case.closed') AS closures,
       count(*) FILTER (WHERE type = 'support.provided') AS supports,
       count(DISTINCT person) FILTER (WHERE type = 'support.provided') AS persons_supported,
       count(*) FILTER (WHERE type = 'outreach.held') AS outreach,
       count(*) FILTER (WHERE type = 'training.held') AS trainings
FROM events
WHERE year = $year AND province_now IS NOT NULL
GROUP BY province_now
ORDER BY province_now
