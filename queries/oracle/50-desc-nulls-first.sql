SELECT classification, count(*) AS n FROM verifications GROUP BY classification ORDER BY classification DESC NULLS FIRST
