-- Redshift streaming ingestion: the ticks and analytics Kinesis streams straight into
-- materialized views, and typed views on top that expose the record contracts' columns
-- (gridtape/contract.py TICK and VOLATILITY; tests/batch/test_querypack.py holds the views
-- to the contract). Applied in this order by the deploy through the Data API
-- (batch/streaming_ingestion.py: redshift_statements()).
--
-- Stream names: "ticks" and "analytics" below are logical; redshift_statements() puts the
-- deployment's physical names (gridtape-<env>-ticks, ...) in their place on the parsed tree.
-- IAM_ROLE default is the workgroup's default role unless the deploy names one.
--
-- On the embedded stack (DuckDB) the two MVs are tables of the same shape filled by
-- app/local/ingest.py (local.sql), and the views below run there through sqlglot; SUPER
-- navigation (payload.iso) becomes DuckDB JSON extraction in batch/streaming_ingestion.py.

CREATE EXTERNAL SCHEMA IF NOT EXISTS kds FROM KINESIS IAM_ROLE default;

-- One materialized view per stream, this SELECT over each: redshift_objects() stamps
-- analytics_stream (FROM kds."analytics") from this one. Every record is kept: one that is not
-- JSON has payload NULL and its bytes in failed_payload (CAN_JSON_PARSE guards JSON_PARSE,
-- which would fail the refresh).
CREATE MATERIALIZED VIEW ticks_stream AUTO REFRESH YES AS
SELECT
    approximate_arrival_timestamp,
    partition_key,
    shard_id,
    sequence_number,
    refresh_time,
    CASE WHEN CAN_JSON_PARSE(kinesis_data) THEN JSON_PARSE(kinesis_data) ELSE NULL END AS payload,
    CASE WHEN NOT CAN_JSON_PARSE(kinesis_data) THEN kinesis_data ELSE NULL END AS failed_payload
FROM kds."ticks";

-- Every tick version that carries the contract's required fields, typed like the nightly
-- tables (timestamps naive UTC). A cast that does not fit yields NULL (Redshift's
-- cast_super_null_on_error; TRY_CAST on DuckDB), so a malformed record drops out here and
-- stays visible in ticks_stream. {tick.casts}: CAST(payload.<field> AS <its warehouse type>)
-- AS <field> for every field of the contract; {tick.required}: <field> IS NOT NULL for each
-- it requires (batch/contract_sql.py fills them before the file is parsed).
CREATE OR REPLACE VIEW stream_ticks AS
SELECT *
FROM (
    SELECT
        {tick.casts},
        approximate_arrival_timestamp,
        partition_key,
        shard_id,
        sequence_number,
        refresh_time
    FROM ticks_stream
    WHERE payload IS NOT NULL
) AS t
WHERE {tick.required};

CREATE OR REPLACE VIEW stream_volatility_versions AS
SELECT *
FROM (
    SELECT
        {volatility.casts},
        approximate_arrival_timestamp,
        partition_key,
        shard_id,
        sequence_number,
        refresh_time
    FROM analytics_stream
    WHERE payload IS NOT NULL
) AS v
WHERE {volatility.required};

-- Every version of each tick's natural key that carries its dataset's measure, ranked
-- (1 = latest): the highest revision wins whatever the clocks say (a NULL revision ranks
-- below 0); then the later publication, ingestion and arrival. batch/querypack.py ranks the
-- versions known at an --as-of time with this same definition.
CREATE OR REPLACE VIEW stream_tick_ranks AS
SELECT t.*, ROW_NUMBER() OVER (
    PARTITION BY iso, market, dataset, location, interval_start
    ORDER BY COALESCE(revision, -1) DESC, published_at DESC, ingested_at DESC,
        approximate_arrival_timestamp DESC
) AS version_rank
FROM stream_ticks AS t
WHERE (dataset = 'lmp' AND lmp IS NOT NULL) OR (dataset = 'load' AND load_mw IS NOT NULL);

-- The latest version of each natural key, shaped like the nightly facts (prices, load_mw,
-- volatility) so every query of the pack runs on either source.
CREATE OR REPLACE VIEW stream_prices AS
SELECT iso, market, location, location_type, interval_start, interval_end,
    lmp, energy, congestion, loss, published_at, ingested_at, source, revision
FROM stream_tick_ranks
WHERE dataset = 'lmp' AND version_rank = 1;

CREATE OR REPLACE VIEW stream_load_mw AS
SELECT iso, market, location, location_type, interval_start, interval_end,
    load_mw, published_at, ingested_at, source, revision
FROM stream_tick_ranks
WHERE dataset = 'load' AND version_rank = 1;

-- A window re-emitted by the streaming job (a late tick) replaces the earlier record.
CREATE OR REPLACE VIEW stream_volatility AS
SELECT iso, market, location, window_start, window_end, window_minutes, slide_minutes,
    n, n_nonpositive, price_first, price_last, price_min, price_max, price_mean,
    vol_log, vol_abs, computed_at
FROM (
    SELECT v.*, ROW_NUMBER() OVER (
        PARTITION BY iso, market, location, window_start, window_end
        ORDER BY computed_at DESC, approximate_arrival_timestamp DESC
    ) AS version_rank
    FROM stream_volatility_versions AS v
) AS ranked
WHERE version_rank = 1;
