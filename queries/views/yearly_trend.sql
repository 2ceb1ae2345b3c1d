-- yearly_trend: events per province (as the map is today, after the 2025 merger), year and
-- type: the trend at a glance, comparable across the merger.
-- Rule: a unit's events count for the province its territory belongs to now (province_now).
SELECT province_now, year, type, count(*) AS events
FROM events
WHERE province_now IS NOT NULL
GROUP BY province_now, year, type
