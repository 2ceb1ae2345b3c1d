-- Establishments still open, by kind; closed ones by reason.
SELECT kind, count(*) FILTER (WHERE closed_at IS NULL) AS open,
       count(*) FILTER (WHERE closed_at IS NOT NULL) AS closed
FROM establishments GROUP BY kind ORDER BY kind
