-- budget_bac_kan_2011_2015: the budget table of Bắc Kạn's plan 1513/QĐ-UBND (2011-2015),
-- million VND, as the source document prints it: its five lines by year, then the totals.
-- Rule: the lines in the document's order (the order they were recorded in); whole millions,
-- as the document prints them (its amounts are all whole millions).
SELECT line,
       CAST(sum(amount_million_vnd) FILTER (WHERE budget_year = 2011) AS BIGINT) AS "2011",
       CAST(sum(amount_million_vnd) FILTER (WHERE budget_year = 2012) AS BIGINT) AS "2012",
       CAST(sum(amount_million_vnd) FILTER (WHERE budget_year = 2013) AS BIGINT) AS "2013",
       CAST(sum(amount_million_vnd) FILTER (WHERE budget_year = 2014) AS BIGINT) AS "2014",
       CAST(sum(amount_million_vnd) FILTER (WHERE budget_year = 2015) AS BIGINT) AS "2015",
       CAST(sum(amount_million_vnd) AS BIGINT) AS total
FROM budgets
WHERE plan = '1513/QĐ-UBND'
GROUP BY line
ORDER BY min(seq);

SELECT 'Tổng cộng' AS line,
       CAST(sum(amount_million_vnd) FILTER (WHERE budget_year = 2011) AS BIGINT) AS "2011",
       CAST(sum(amount_million_vnd) FILTER (WHERE budget_year = 2012) AS BIGINT) AS "2012",
       CAST(sum(amount_million_vnd) FILTER (WHERE budget_year = 2013) AS BIGINT) AS "2013",
       CAST(sum(amount_million_vnd) FILTER (WHERE budget_year = 2014) AS BIGINT) AS "2014",
       CAST(sum(amount_million_vnd) FILTER (WHERE budget_year = 2015) AS BIGINT) AS "2015",
       CAST(sum(amount_million_vnd) AS BIGINT) AS total
FROM budgets
WHERE plan = '1513/QĐ-UBND'
