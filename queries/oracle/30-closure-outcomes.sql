-- Outcomes of closed cases by classification, through the verification.
SELECT v.classification, c.outcome, count(*) AS n
FROM closures c JOIN verifications v ON v.case_id = c.case_id
GROUP BY ALL ORDER BY v.classification NULLS FIRST, c.outcome
