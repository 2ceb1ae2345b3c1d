SELECT amount_vnd, kind FROM supports WHERE year = 2013 ORDER BY amount_vnd NULLS FIRST, seq LIMIT 8
