SELECT CASE WHEN result = 'violation' THEN CASE WHEN fine_vnd IS NULL THEN 'unfined' ELSE 'fined' END
            ELSE 'clean' END AS outcome, count(*) AS n
FROM inspections GROUP BY 1 ORDER BY 1
