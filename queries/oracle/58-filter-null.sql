-- FILTER with a NULL condition counts nothing for that row.
SELECT count(*) FILTER (WHERE fine_vnd > 10000000) AS big, count(*) FILTER (WHERE NOT (fine_vnd > 10000000)) AS small,
       count(*) AS all_rows FROM inspections
