SELECT close_reason, count(*) AS n FROM establishments WHERE closed_at IS NOT NULL
GROUP BY close_reason ORDER BY n DESC, close_reason NULLS LAST
