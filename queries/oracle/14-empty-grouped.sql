SELECT year, count(*) AS n FROM outreach WHERE year = 1999 GROUP BY year
