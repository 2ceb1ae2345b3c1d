-- Units with more than 300 outreach events, by audience.
SELECT unit, audience, count(*) AS n, sum(reached) AS reached FROM outreach
GROUP BY unit, audience HAVING count(*) > 300 ORDER BY n DESC, unit, audience
