-- Referrals by target and legal basis (NULL basis kept).
SELECT referred_to, basis, count(*) AS n FROM referrals GROUP BY ALL
ORDER BY referred_to, basis NULLS LAST
