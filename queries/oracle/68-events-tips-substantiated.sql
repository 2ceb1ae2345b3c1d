-- Two types of one case side by side: the tip's source and its verification's finding.
SELECT t.source, v.finding, count(*) AS cases
FROM events t
JOIN events v ON t.case_id = v.case_id
WHERE t.type = 'tip.received' AND v.type = 'tip.verified'
GROUP BY t.source, v.finding
ORDER BY t.source, v.finding;
