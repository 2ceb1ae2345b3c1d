-- cases: one row per case, from the tip that opened it to its closing: when each step
-- happened, how many days the verification took, and whether it was handled in time.
-- key: case_id
-- Rule: a tip is verified within 20 days of being received (Criminal Procedure Code 2015,
-- art. 147: the time limit to settle a denunciation, a report of a crime or a request to
-- prosecute). The deadline is the INTERVAL below: change it and `hoso rebuild` replays the
-- whole history under the new rule.
SELECT case_id,
       province_now,
       opened_at,
       verified_at,
       first_inspected_at,
       referred_at,
       closed_at,
       date_diff('day', opened_at, verified_at) AS days_to_verify,
       coalesce(verified_at <= opened_at + INTERVAL '20 days', false) AS handled_in_time
FROM (
  SELECT case_id,
         min(province_now) AS province_now,
         min(occurred_at) FILTER (WHERE type = 'tip.received') AS opened_at,
         min(occurred_at) FILTER (WHERE type = 'tip.verified') AS verified_at,
         min(occurred_at) FILTER (WHERE type = 'inspection.done') AS first_inspected_at,
         min(occurred_at) FILTER (WHERE type = 'case.referred') AS referred_at,
         max(occurred_at) FILTER (WHERE type = 'case.closed') AS closed_at
  FROM events
  WHERE case_id IS NOT NULL
  GROUP BY case_id
) AS c
WHERE opened_at IS NOT NULL
