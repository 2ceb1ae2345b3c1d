-- budget_bac_kan_2011_2015: the budget table of Bắc Kạn's plan 1513/QĐ-UBND (2011-2015),
-- million VND, as the source document prints it: its five lines by year, then the totals.
-- Rule: the lines in the document's order (the order they were recorded in).
SELECT line,
       sum(amount_million_vnd) FILTER (WHERE budget_year = 2011) AS "2011",
       sum(amount_million_vnd) FILTER (WHERE budget_year = 2012) AS "2012",
       sum(amount_million_vnd) FILTER (WHERE budget_year = 2013) AS "2013",
       sum(amount_million_vnd) FILTER (WHERE budget_year = 2014) AS "2014",
       sum(amount_million_vnd) FILTER (WHERE budget_year = 2015) AS "2015",
       sum(amount_million_vnd) AS total
FROM budgets
WHERE plan = '1513/QĐ-UBND'
GROUP BY line
ORDER BY min(seq);

SELECT 'Tổng cộng' AS line,
       sum(amount_million_vnd) FILTER (WHERE budget_year = 2011) AS "2011",
       sum(amount_million_vnd) FILTER (WHERE budget_year = 2012) AS "2012",
       sum(amount_million_vnd) FILTER (WHERE budget_year = 2013) AS "2013",
       sum(amount_million_vnd) FILTER (WHERE budget_year = 2014) AS "2014",
       sum(amount_million_vnd) FILTER (WHERE budget_year = 2015) AS "2015",
       sum(amount_million_vnd) AS total
FROM budgets
WHERE plan = '1513/QĐ-UBND'
