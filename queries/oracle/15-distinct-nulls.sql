-- DISTINCT counts NULL as one value; count(DISTINCT) ignores it.
SELECT DISTINCT classification FROM verifications ORDER BY classification
