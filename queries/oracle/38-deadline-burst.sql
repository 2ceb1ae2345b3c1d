-- Records per month of recording: the June and December bursts.
SELECT month(recorded_at) AS m, count(*) AS n FROM events GROUP BY m ORDER BY m
