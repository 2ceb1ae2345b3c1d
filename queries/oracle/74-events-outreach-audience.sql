SELECT province, audience, form, sum(reached) AS reached, count(*) AS sessions
FROM events
WHERE type = 'outreach.held' AND year BETWEEN 2016 AND 2020
GROUP BY ALL
HAVING sum(reached) > 1000
ORDER BY province, audience, form;
