-- Tips by national programme period (2026: a year of its own).
SELECT plan_period(occurred_at) AS period, count(*) AS tips FROM tips GROUP BY ALL ORDER BY period
