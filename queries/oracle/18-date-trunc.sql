-- Referrals per quarter in 2024.
SELECT date_trunc('quarter', occurred_at) AS q, count(*) AS n FROM referrals
WHERE occurred_at >= TIMESTAMP '2024-01-01 00:00:00' AND occurred_at < TIMESTAMP '2025-01-01 00:00:00'
GROUP BY ALL ORDER BY q
