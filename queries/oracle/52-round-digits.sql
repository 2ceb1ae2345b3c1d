-- round with digits, negative digits, and halves away from zero.
SELECT round(avg(reached), 2) AS r2, round(avg(reached), 0) AS r0, round(2.5) AS half, round(-2.5) AS neg_half
FROM outreach
