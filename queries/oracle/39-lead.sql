-- The next inspection of each establishment inspected in 2024, and the days until it.
SELECT establishment, occurred_at, lead(occurred_at) OVER (PARTITION BY establishment ORDER BY occurred_at, seq) AS next
FROM inspections WHERE year = 2024 ORDER BY establishment, occurred_at, seq LIMIT 30
