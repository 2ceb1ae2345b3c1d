-- min and max of text and of times.
SELECT min(actor) AS a, max(actor) AS b, min(occurred_at) AS first, max(recorded_at) AS last FROM events
