-- Cases referred to the police that were closed.
SELECT outcome, count(*) AS n FROM closures
WHERE case_id IN (SELECT case_id FROM referrals WHERE referred_to = 'police')
GROUP BY outcome ORDER BY outcome
