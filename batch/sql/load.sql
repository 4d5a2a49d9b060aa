-- Load one trade date of curated ticks into the facts. Runs as ONE transaction (the Data
-- API's BatchExecuteStatement; a DuckDB transaction locally), so a failure leaves the facts
-- as they were. Idempotent: staging is emptied first, the facts are MERGEd on the natural
-- key, so loading the same day twice leaves identical tables.
-- Latest wins, as in compaction (batch/transforms.py latest_first): the highest revision (a
-- null revision counts lowest), then published_at, then ingested_at. A staged row that loses
-- to the fact row already held is dropped before the MERGE (Redshift's MERGE has no
-- WHEN MATCHED AND <condition>).
-- Parameters (sqlglot placeholders): :trade_date, :manifest_url.
-- DELETE, not TRUNCATE: TRUNCATE commits the open transaction in Redshift.
DELETE FROM stg_ticks;
DELETE FROM stg_prices;
DELETE FROM stg_load;
DELETE FROM stg_locations;

COPY stg_ticks FROM :manifest_url IAM_ROLE default FORMAT AS PARQUET MANIFEST;

-- A manifest names exactly one day, but guard anyway: the facts take only that day.
DELETE FROM stg_ticks WHERE trade_date <> CAST(:trade_date AS DATE);

-- MERGE's source must be a table in Redshift: split staging per target first.
INSERT INTO stg_prices (
    iso, market, location, location_type, interval_start, interval_end, trade_date,
    lmp, energy, congestion, loss, published_at, ingested_at, source, revision
)
SELECT iso, market, location, location_type, interval_start, interval_end, trade_date,
    lmp, energy, congestion, loss, published_at, ingested_at, source, revision
FROM stg_ticks WHERE dataset = 'lmp';

INSERT INTO stg_load (
    iso, market, location, location_type, interval_start, interval_end, trade_date,
    load_mw, published_at, ingested_at, source, revision
)
SELECT iso, market, location, location_type, interval_start, interval_end, trade_date,
    load_mw, published_at, ingested_at, source, revision
FROM stg_ticks WHERE dataset = 'load';

INSERT INTO stg_locations (iso, location, location_type, first_date, last_date)
SELECT iso, location, MAX(location_type), MIN(trade_date), MAX(trade_date)
FROM stg_ticks
GROUP BY iso, location;

DELETE FROM stg_prices USING prices
WHERE prices.iso = stg_prices.iso AND prices.market = stg_prices.market
    AND prices.location = stg_prices.location AND prices.interval_start = stg_prices.interval_start
    AND (
        COALESCE(prices.revision, -1) > COALESCE(stg_prices.revision, -1)
        OR (COALESCE(prices.revision, -1) = COALESCE(stg_prices.revision, -1)
            AND (prices.published_at > stg_prices.published_at
                OR (prices.published_at = stg_prices.published_at AND prices.ingested_at > stg_prices.ingested_at)))
    );

DELETE FROM stg_load USING load_mw
WHERE load_mw.iso = stg_load.iso AND load_mw.market = stg_load.market
    AND load_mw.location = stg_load.location AND load_mw.interval_start = stg_load.interval_start
    AND (
        COALESCE(load_mw.revision, -1) > COALESCE(stg_load.revision, -1)
        OR (COALESCE(load_mw.revision, -1) = COALESCE(stg_load.revision, -1)
            AND (load_mw.published_at > stg_load.published_at
                OR (load_mw.published_at = stg_load.published_at AND load_mw.ingested_at > stg_load.ingested_at)))
    );

MERGE INTO prices
USING stg_prices AS s
ON prices.iso = s.iso AND prices.market = s.market AND prices.location = s.location
    AND prices.interval_start = s.interval_start
WHEN MATCHED THEN UPDATE SET
    location_type = s.location_type, interval_end = s.interval_end, trade_date = s.trade_date,
    lmp = s.lmp, energy = s.energy, congestion = s.congestion, loss = s.loss,
    published_at = s.published_at, ingested_at = s.ingested_at, source = s.source, revision = s.revision
WHEN NOT MATCHED THEN INSERT (
    iso, market, location, location_type, interval_start, interval_end, trade_date,
    lmp, energy, congestion, loss, published_at, ingested_at, source, revision
) VALUES (
    s.iso, s.market, s.location, s.location_type, s.interval_start, s.interval_end, s.trade_date,
    s.lmp, s.energy, s.congestion, s.loss, s.published_at, s.ingested_at, s.source, s.revision
);

MERGE INTO load_mw
USING stg_load AS s
ON load_mw.iso = s.iso AND load_mw.market = s.market AND load_mw.location = s.location
    AND load_mw.interval_start = s.interval_start
WHEN MATCHED THEN UPDATE SET
    location_type = s.location_type, interval_end = s.interval_end, trade_date = s.trade_date,
    load_mw = s.load_mw, published_at = s.published_at, ingested_at = s.ingested_at, source = s.source,
    revision = s.revision
WHEN NOT MATCHED THEN INSERT (
    iso, market, location, location_type, interval_start, interval_end, trade_date,
    load_mw, published_at, ingested_at, source, revision
) VALUES (
    s.iso, s.market, s.location, s.location_type, s.interval_start, s.interval_end, s.trade_date,
    s.load_mw, s.published_at, s.ingested_at, s.source, s.revision
);

MERGE INTO locations
USING stg_locations AS s
ON locations.iso = s.iso AND locations.location = s.location
WHEN MATCHED THEN UPDATE SET
    location_type = s.location_type,
    first_date = LEAST(locations.first_date, s.first_date),
    last_date = GREATEST(locations.last_date, s.last_date)
WHEN NOT MATCHED THEN INSERT (iso, location, location_type, first_date, last_date)
VALUES (s.iso, s.location, s.location_type, s.first_date, s.last_date);

DELETE FROM stg_ticks;
DELETE FROM stg_prices;
DELETE FROM stg_load;
DELETE FROM stg_locations;
