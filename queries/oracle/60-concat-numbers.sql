-- Concatenation of text with numbers and NULL.
SELECT province_now || ': ' || count(*) AS label, NULL || province_now AS none FROM tips
GROUP BY province_now ORDER BY province_now LIMIT 5
