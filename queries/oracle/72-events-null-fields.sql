-- How many rows hold each field, over every type at once.
SELECT count(*) AS n, count(result) AS result, count(reason) AS reason, count(title) AS title,
       count(period_start) AS period_start, count("into") AS merged, count(parent) AS parent,
       count(referred_to) AS referred, count(summary) AS summary, count(source) AS source
FROM events;
