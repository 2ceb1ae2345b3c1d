-- Inspections and violations by province now (after the 2025 merger), most first.
SELECT province_now, count(*) AS inspections,
       count(*) FILTER (WHERE result = 'violation') AS violations
FROM inspections GROUP BY province_now ORDER BY inspections DESC, province_now
