-- NULLs sort last ascending and descending unless asked.
SELECT fine_vnd FROM inspections WHERE year = 2012 ORDER BY fine_vnd DESC LIMIT 5
