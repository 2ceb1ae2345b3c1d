-- inspection_coverage: per province (today's map) and year, the establishments at risk that
-- were active, those inspected, and the share (indicator inspection_coverage: 679/QĐ-TTg and
-- 1629/QĐ-TTg ask for at least 20 % a year, some provinces 30 %).
-- key: province_now, year
-- Rule: an establishment is active in a year when it was registered by the year's end and
-- not closed before the year began.
WITH years AS (
  SELECT DISTINCT year FROM inspections
),
registered AS (
  -- Establishments by province, year of registration and year of closing: a few thousand
  -- rows, so that the years they were active are a small join.
  SELECT province_now, year, year(closed_at) AS closed_year, count(*) AS n
  FROM establishments
  GROUP BY province_now, year, year(closed_at)
),
active AS (
  SELECT r.province_now, y.year, sum(r.n) AS active
  FROM registered r JOIN years y
    ON r.year <= y.year AND (r.closed_year IS NULL OR r.closed_year >= y.year)
  GROUP BY r.province_now, y.year
),
inspected AS (
  SELECT province_now, year, count(DISTINCT establishment) AS inspected
  FROM inspections
  GROUP BY province_now, year
)
SELECT a.province_now, a.year, a.active,
       coalesce(i.inspected, 0) AS inspected,
       round(100.0 * coalesce(i.inspected, 0) / a.active, 1) AS share
FROM active a LEFT JOIN inspected i ON i.province_now = a.province_now AND i.year = a.year
