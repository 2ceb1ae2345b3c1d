-- Text: lengths, upper and lower case, concatenation of Vietnamese names.
SELECT DISTINCT province, length(province) AS len, upper(province) AS up, lower(province) AS low,
       province || ' / ' || province_now AS both_names
FROM events WHERE province IS NOT NULL ORDER BY province, both_names LIMIT 20
