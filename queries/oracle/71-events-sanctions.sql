SELECT sanction, team, count(*) AS n, avg(fine_vnd) AS mean_fine, min(fine_vnd) AS least,
       max(fine_vnd) AS most, count(fine_vnd) AS fined
FROM events
WHERE type = 'inspection.done'
GROUP BY sanction, team
ORDER BY sanction, team;
