-- prices as known at :as_of (replaces `prices` in a query run with --as-of): of the versions
-- of each natural key ingested (and published) at or before :as_of, the highest revision
-- (NULL below 0), then the later publication, ingestion and arrival. Only the streaming
-- source keeps every version; the nightly facts keep the latest.
SELECT iso, market, location, location_type, interval_start, interval_end,
    lmp, energy, congestion, loss, published_at, ingested_at, source, revision
FROM (
    SELECT t.*, ROW_NUMBER() OVER (
        PARTITION BY iso, market, location, interval_start
        ORDER BY COALESCE(revision, -1) DESC, published_at DESC, ingested_at DESC,
            approximate_arrival_timestamp DESC
    ) AS version_rank
    FROM stream_ticks AS t
    WHERE dataset = 'lmp' AND lmp IS NOT NULL AND ingested_at <= :as_of AND published_at <= :as_of
) AS ranked
WHERE version_rank = 1
