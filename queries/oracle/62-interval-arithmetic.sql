-- Date arithmetic as DuckDB types it: TIMESTAMP - TIMESTAMP is an INTERVAL, DATE - DATE a
-- number of days, DATE + INTEGER a DATE, TIMESTAMP + INTERVAL a TIMESTAMP (months on the
-- calendar: 31 January + 1 month is the end of February).
SELECT v.case_id,
       CAST(v.occurred_at - t.occurred_at AS VARCHAR) AS took,
       CAST(v.occurred_at AS DATE) - CAST(t.occurred_at AS DATE) AS days,
       CAST(t.occurred_at AS DATE) + 7 AS a_week_later,
       t.occurred_at + INTERVAL '1 month 2 days 03:00:00' AS later,
       DATE '2024-01-31' + INTERVAL 1 MONTH AS end_of_february
FROM tips t JOIN verifications v ON v.case_id = t.case_id
WHERE t.occurred_at >= TIMESTAMP '2024-01-01' - INTERVAL '2 years'
ORDER BY v.occurred_at - t.occurred_at DESC, v.case_id
LIMIT 12
