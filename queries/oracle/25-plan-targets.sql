-- Targets by indicator across the committed plans.
SELECT indicator, count(*) AS plans, min(min_percent) AS lowest, max(min_percent) AS highest
FROM plan_targets GROUP BY indicator ORDER BY indicator
