-- Load one trade date of curated ticks into the facts. Runs as ONE transaction (the Data
-- API's BatchExecuteStatement; a DuckDB transaction locally), so a failure leaves the facts
-- as they were. Idempotent: staging is emptied first, the facts are MERGEd on the natural
-- key, so loading the same day twice leaves identical tables. Latest wins, as in compaction
-- (batch/sql/upsert.sql).
-- Parameters (sqlglot placeholders): :trade_date, :manifest_url.
-- DELETE, not TRUNCATE: TRUNCATE commits the open transaction in Redshift.
DELETE FROM stg_ticks;
DELETE FROM stg_prices;
DELETE FROM stg_load;
DELETE FROM stg_locations;

COPY stg_ticks FROM :manifest_url IAM_ROLE default FORMAT AS PARQUET MANIFEST;

-- A manifest names exactly one day, but guard anyway: the facts take only that day.
DELETE FROM stg_ticks WHERE trade_date <> CAST(:trade_date AS DATE);

-- MERGE's source must be a table in Redshift: split staging per target first. {prices.columns}:
-- the columns of prices (batch/contract_sql.py, from the tick contract).
INSERT INTO stg_prices ({prices.columns})
SELECT {prices.columns}
FROM stg_ticks WHERE dataset = 'lmp';

INSERT INTO stg_load ({load_mw.columns})
SELECT {load_mw.columns}
FROM stg_ticks WHERE dataset = 'load';

INSERT INTO stg_locations (iso, location, location_type, first_date, last_date)
SELECT iso, location, MAX(location_type), MIN(trade_date), MAX(trade_date)
FROM stg_ticks
GROUP BY iso, location;

-- Latest wins, then MERGE (batch/sql/upsert.sql, for each fact).
{prices.upsert}

{load_mw.upsert}

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
