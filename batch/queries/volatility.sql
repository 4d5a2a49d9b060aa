-- name: volatility
-- answers: A location's rolling price volatility over time (the streaming job's windows).
-- param: iso (str) = PJM | ISO code
-- param: location (str) = WESTERN HUB | location name as the ISO spells it
-- param: market (str) = RT5 | market of the priced ticks
-- param: window_minutes (int) = 60 | window length (the job computes 60 and 1440 by default)
-- param: until (timestamp) = @as_of | windows ending before or at this time, UTC
-- param: hours (int) = 24 | windows ending in the hours before `until`
-- column: window_start | window start (inclusive), UTC
-- column: window_end | window end (exclusive), UTC
-- column: n | observations in the window
-- column: n_nonpositive | observations with price <= 0
-- column: price_mean | $/MWh
-- column: price_min | $/MWh
-- column: price_max | $/MWh
-- column: price_last | $/MWh
-- column: vol_log | stdev of log returns (pairs of positive prices); NULL under 2 returns
-- column: vol_abs | stdev of price differences, $/MWh; NULL under 2 differences
-- column: computed_at | when the job emitted the window, UTC
-- tables: volatility
SELECT window_start, window_end, n, n_nonpositive, price_mean, price_min, price_max, price_last,
    vol_log, vol_abs, computed_at
FROM volatility
WHERE iso = :iso AND location = :location AND market = :market AND window_minutes = :window_minutes
    AND window_end > DATEADD(hour, -:hours, :until) AND window_end <= :until
ORDER BY window_end;
