-- volatility as known at :as_of: of the records of each window computed at or before :as_of,
-- the latest (a late tick makes the job re-emit a window).
SELECT iso, market, location, window_start, window_end, window_minutes, slide_minutes,
    n, n_nonpositive, price_first, price_last, price_min, price_max, price_mean,
    vol_log, vol_abs, computed_at
FROM (
    SELECT v.*, ROW_NUMBER() OVER (
        PARTITION BY iso, market, location, window_start, window_end
        ORDER BY computed_at DESC, approximate_arrival_timestamp DESC
    ) AS version_rank
    FROM stream_volatility_versions AS v
    WHERE computed_at <= :as_of
) AS ranked
WHERE version_rank = 1
