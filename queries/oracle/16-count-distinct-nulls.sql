SELECT count(DISTINCT classification) AS n, count(classification) AS c, count(*) AS all_rows FROM verifications
