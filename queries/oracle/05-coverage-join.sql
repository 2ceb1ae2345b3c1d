-- Inspection coverage in 2024 by province now: establishments inspected / registered.
SELECT e.province_now, count(DISTINCT e.establishment) AS establishments,
       count(DISTINCT i.establishment) AS inspected,
       round(100.0 * count(DISTINCT i.establishment) / count(DISTINCT e.establishment), 2) AS pct
FROM establishments e LEFT JOIN inspections i ON i.establishment = e.establishment AND i.year = 2024
GROUP BY e.province_now ORDER BY pct DESC, e.province_now
