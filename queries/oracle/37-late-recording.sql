-- Events recorded more than 30 days after they happened, by type.
SELECT type, count(*) AS late FROM events
WHERE date_diff('day', occurred_at, recorded_at) > 30 GROUP BY type ORDER BY late DESC, type
