-- Kinds of establishment ranked by violations (dense ranks share places).
SELECT e.kind, count(*) AS violations,
       dense_rank() OVER (ORDER BY count(*) DESC) AS place
FROM inspections i JOIN establishments e ON e.establishment = i.establishment
WHERE i.result = 'violation' GROUP BY e.kind ORDER BY place, e.kind
