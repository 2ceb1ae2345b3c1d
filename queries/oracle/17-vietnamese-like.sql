-- Vietnamese text: LIKE and ILIKE on province names.
SELECT province, count(*) AS n FROM events
WHERE province LIKE 'Bắc%' OR province ILIKE '%hồ chí minh%' OR province LIKE '%Đ%'
GROUP BY province ORDER BY province
