SELECT year, referred_to, count(*) AS referrals,
       count(*) FILTER (WHERE basis IS NOT NULL) AS with_basis
FROM events
WHERE type = 'case.referred'
GROUP BY year, referred_to
ORDER BY year, referred_to;
