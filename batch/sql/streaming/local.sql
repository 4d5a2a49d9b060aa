-- The embedded stand-ins for the streaming MVs of ingestion.sql (DuckDB has no Kinesis):
-- tables of the same columns, filled by app/local/ingest.py with what the MV's SELECT would
-- produce, and the per-shard position of each, committed with the rows it covers.
CREATE TABLE IF NOT EXISTS ticks_stream (
    approximate_arrival_timestamp TIMESTAMP,
    partition_key                 VARCHAR(256),
    shard_id                      VARCHAR(128),
    sequence_number               VARCHAR(128),
    refresh_time                  TIMESTAMP,
    payload                       SUPER,
    failed_payload                VARBYTE
);

CREATE TABLE IF NOT EXISTS analytics_stream (LIKE ticks_stream);

CREATE TABLE IF NOT EXISTS stream_positions (
    mv_name         VARCHAR(64)  NOT NULL,
    shard_id        VARCHAR(128) NOT NULL,
    sequence_number VARCHAR(128) NOT NULL,
    PRIMARY KEY (mv_name, shard_id)
);
