-- Establishments never inspected, by province now.
SELECT province_now, count(*) AS never FROM establishments
WHERE establishment NOT IN (SELECT establishment FROM inspections)
GROUP BY province_now ORDER BY never DESC, province_now LIMIT 10
