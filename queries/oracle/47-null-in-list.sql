-- IN with a NULL in the list: no match is NULL, not false.
SELECT classification IN ('criminal', NULL) AS hit, count(*) AS n FROM verifications GROUP BY 1 ORDER BY 1 NULLS FIRST
