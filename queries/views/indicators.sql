-- indicators: per plan, year and indicator of the plans' targets (plan_targets), the actual
-- share the data measures, against the plan's floor (min_percent), and whether it was met.
-- key: plan, unit, indicator, year
-- Rule: a target holds for every year of its plan's period (or its own year, when the text
-- names one); a national target (unit VN) is measured over the whole country, a provincial
-- one over its province as the map is today. Measured here: inspection_coverage (from the
-- inspection_coverage view) and tips_handled (cases handled in time, from the cases view).
-- The other indicators have no measure in the events (units in need, staff on file): their
-- actual is NULL, never a guess.
WITH years AS (
  SELECT DISTINCT year FROM events WHERE year >= 2011
),
targets AS (
  SELECT t.plan, t.unit, t.province_now, t.indicator, t.min_percent, y.year
  FROM plan_targets t JOIN years y
    ON y.year BETWEEN year(t.period_start) AND year(t.period_end)
   AND (t.year IS NULL OR t.year = y.year)
),
coverage AS (
  SELECT province_now, year, sum(active) AS active, sum(inspected) AS inspected
  FROM inspection_coverage GROUP BY province_now, year
),
national_coverage AS (
  SELECT year, sum(active) AS active, sum(inspected) AS inspected
  FROM inspection_coverage GROUP BY year
),
handled AS (
  SELECT province_now, year(opened_at) AS year, count(*) AS tips,
         count(*) FILTER (WHERE handled_in_time) AS in_time
  FROM cases GROUP BY province_now, year(opened_at)
),
national_handled AS (
  SELECT year(opened_at) AS year, count(*) AS tips,
         count(*) FILTER (WHERE handled_in_time) AS in_time
  FROM cases GROUP BY year(opened_at)
),
measured AS (
  SELECT t.plan, t.unit, t.year, t.indicator, t.min_percent,
         CASE t.indicator
           WHEN 'inspection_coverage' THEN
             CASE WHEN t.unit = 'VN' THEN round(100.0 * nc.inspected / nc.active, 1)
                  WHEN t.unit LIKE 'VN-__' THEN round(100.0 * c.inspected / c.active, 1) END
           WHEN 'tips_handled' THEN
             CASE WHEN t.unit = 'VN' THEN round(100.0 * nh.in_time / nh.tips, 1)
                  WHEN t.unit LIKE 'VN-__' THEN round(100.0 * h.in_time / h.tips, 1) END
         END AS actual
  FROM targets t
  LEFT JOIN coverage c ON c.province_now = t.province_now AND c.year = t.year
  LEFT JOIN national_coverage nc ON nc.year = t.year
  LEFT JOIN handled h ON h.province_now = t.province_now AND h.year = t.year
  LEFT JOIN national_handled nh ON nh.year = t.year
)
SELECT plan, unit, year, indicator, min_percent, actual,
       CASE WHEN actual IS NULL THEN NULL ELSE actual >= min_percent END AS met
FROM measured
ORDER BY plan, unit, indicator, year
