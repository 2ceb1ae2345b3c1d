SELECT plan, issuer, level, period_start, period_end, basis IS NULL AS no_basis
FROM events
WHERE type = 'plan.adopted'
ORDER BY period_start, plan;
