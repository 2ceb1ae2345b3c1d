SELECT province_now, kind, count(*) AS supports, count(DISTINCT person) AS persons,
       sum(amount_vnd) AS amount
FROM events
WHERE type = 'support.provided'
GROUP BY ALL
ORDER BY province_now, kind;
