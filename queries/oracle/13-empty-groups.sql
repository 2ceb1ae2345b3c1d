-- An empty input: a global aggregate has one row, a grouped one none.
SELECT count(*) AS n, sum(reached) AS s, min(reached) AS m, avg(reached) AS a FROM outreach WHERE year = 1999
