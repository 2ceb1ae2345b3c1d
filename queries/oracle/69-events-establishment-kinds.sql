SELECT kind,
       count(*) FILTER (WHERE type = 'establishment.registered') AS registered,
       count(DISTINCT establishment) AS establishments
FROM events
WHERE kind IS NOT NULL AND type LIKE 'establishment.%'
GROUP BY kind
ORDER BY kind;
