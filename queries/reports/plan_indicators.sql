-- plan_indicators: every target of the plans in force in the year, the actual share the data
-- measures and whether the target was met (from the indicators view: `hoso rebuild` first).
-- year: the year (--year; this year by default)
SELECT plan, unit, indicator, min_percent, actual, met
FROM indicators
WHERE year = $year
ORDER BY plan, unit, indicator
