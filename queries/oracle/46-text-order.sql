-- Text sorts by bytes (DuckDB's default collation): Vietnamese letters after ASCII.
SELECT DISTINCT province_now FROM events WHERE province_now IS NOT NULL ORDER BY province_now
