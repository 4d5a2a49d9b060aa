-- load_mw as known at :as_of: the same rule as prices_as_of.sql.
SELECT iso, market, location, location_type, interval_start, interval_end,
    load_mw, published_at, ingested_at, source, revision
FROM (
    SELECT t.*, ROW_NUMBER() OVER (
        PARTITION BY iso, market, location, interval_start
        ORDER BY COALESCE(revision, -1) DESC, published_at DESC, ingested_at DESC,
            approximate_arrival_timestamp DESC
    ) AS version_rank
    FROM stream_ticks AS t
    WHERE dataset = 'load' AND load_mw IS NOT NULL AND ingested_at <= :as_of AND published_at <= :as_of
) AS ranked
WHERE version_rank = 1
