-- ORDER BY ALL: every column of the select list, left to right, in one direction; NULLs
-- last ascending and (as DuckDB) last descending too, unless NULLS FIRST says otherwise.
SELECT province_now, kind, count(*) AS n, max(closed_at) AS last_closed
FROM establishments
WHERE year >= 2024
GROUP BY ALL
ORDER BY ALL DESC NULLS FIRST
LIMIT 15
