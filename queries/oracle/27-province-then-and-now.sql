-- Where the province then differs from the province now (the 2025 merger).
SELECT province, province_now, count(*) AS n FROM events WHERE province <> province_now
GROUP BY ALL ORDER BY n DESC, province LIMIT 15
