-- A data field named like a common column: `year` of a budget is `budget_year`.
SELECT budget_year, line, sum(amount_million_vnd) AS million_vnd, count(*) AS lines
FROM events
WHERE type = 'budget.allocated'
GROUP BY budget_year, line
ORDER BY budget_year, line;
