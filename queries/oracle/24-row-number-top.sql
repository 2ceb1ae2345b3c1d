-- The three largest fines of 2019, numbered.
SELECT row_number() OVER (ORDER BY fine_vnd DESC, seq) AS k, fine_vnd, province
FROM inspections WHERE year = 2019 AND fine_vnd IS NOT NULL ORDER BY k LIMIT 3
