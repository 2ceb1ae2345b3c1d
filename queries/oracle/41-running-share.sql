-- Each province's share of all inspections, with a running total by size.
SELECT province_now, count(*) AS n,
       sum(count(*)) OVER (ORDER BY count(*) DESC, province_now) AS running,
       round(100.0 * count(*) / sum(count(*)) OVER (), 3) AS pct
FROM inspections GROUP BY province_now ORDER BY n DESC, province_now LIMIT 10
