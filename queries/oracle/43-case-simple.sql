-- A simple CASE over the finding.
SELECT CASE finding WHEN 'substantiated' THEN 'yes' WHEN 'unfounded' THEN 'no' END AS founded,
       count(*) AS n FROM verifications GROUP BY ALL ORDER BY founded
