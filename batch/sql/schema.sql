-- gridtape warehouse (Redshift dialect; the embedded default runs it on DuckDB through
-- batch/warehouse.py, which drops the Redshift-only DIST/SORT properties explicitly).
--
-- Distribution and sort keys follow the trader queries:
--  * "a hub's prices over a time range" and "the latest day across ISOs" filter on time first
--    -> COMPOUND SORTKEY (interval_start, iso, location): zone maps skip blocks by time, then ISO.
--  * spreads join prices to prices on (market, interval_start) for neighbouring hubs
--    -> DISTKEY (interval_start): both sides of that self-join live on the same slice, and
--    5-minute intervals spread evenly (288 distinct values a day, no skew).
--  * dimensions are small -> DISTSTYLE ALL (a copy on every node, joins never redistribute).

CREATE TABLE IF NOT EXISTS stg_ticks (
    -- Column order = the curated Parquet column order (COPY ... PARQUET maps by position).
    iso            VARCHAR(8)       NOT NULL,
    market         VARCHAR(8)       NOT NULL,
    dataset        VARCHAR(8)       NOT NULL,
    location       VARCHAR(128)     NOT NULL,
    location_type  VARCHAR(16)      NOT NULL,
    interval_start TIMESTAMP        NOT NULL,
    interval_end   TIMESTAMP        NOT NULL,
    lmp            DOUBLE PRECISION,
    energy         DOUBLE PRECISION,
    congestion     DOUBLE PRECISION,
    loss           DOUBLE PRECISION,
    load_mw        DOUBLE PRECISION,
    published_at   TIMESTAMP        NOT NULL,
    ingested_at    TIMESTAMP        NOT NULL,
    source         VARCHAR(1024)    NOT NULL,
    revision       BIGINT,
    trade_date     DATE             NOT NULL
) DISTSTYLE EVEN;

CREATE TABLE IF NOT EXISTS prices (
    iso            VARCHAR(8)       NOT NULL,
    market         VARCHAR(8)       NOT NULL,
    location       VARCHAR(128)     NOT NULL,
    location_type  VARCHAR(16)      NOT NULL,
    interval_start TIMESTAMP        NOT NULL,
    interval_end   TIMESTAMP        NOT NULL,
    trade_date     DATE             NOT NULL,
    lmp            DOUBLE PRECISION NOT NULL,
    energy         DOUBLE PRECISION,
    congestion     DOUBLE PRECISION,
    loss           DOUBLE PRECISION,
    published_at   TIMESTAMP        NOT NULL,
    ingested_at    TIMESTAMP        NOT NULL,
    source         VARCHAR(1024)    NOT NULL,
    revision       BIGINT,
    PRIMARY KEY (iso, market, location, interval_start)
) DISTKEY (interval_start) COMPOUND SORTKEY (interval_start, iso, location);

CREATE TABLE IF NOT EXISTS load_mw (
    iso            VARCHAR(8)       NOT NULL,
    market         VARCHAR(8)       NOT NULL,
    location       VARCHAR(128)     NOT NULL,
    location_type  VARCHAR(16)      NOT NULL,
    interval_start TIMESTAMP        NOT NULL,
    interval_end   TIMESTAMP        NOT NULL,
    trade_date     DATE             NOT NULL,
    load_mw        DOUBLE PRECISION NOT NULL,
    published_at   TIMESTAMP        NOT NULL,
    ingested_at    TIMESTAMP        NOT NULL,
    source         VARCHAR(1024)    NOT NULL,
    revision       BIGINT,
    PRIMARY KEY (iso, market, location, interval_start)
) DISTKEY (interval_start) COMPOUND SORTKEY (interval_start, iso, location);

-- Rolling volatility from the streaming job (gridtape.contract.VOLATILITY), same keys idea:
-- queries are "a location's volatility over time".
CREATE TABLE IF NOT EXISTS volatility (
    iso            VARCHAR(8)       NOT NULL,
    market         VARCHAR(8)       NOT NULL,
    location       VARCHAR(128)     NOT NULL,
    window_start   TIMESTAMP        NOT NULL,
    window_end     TIMESTAMP        NOT NULL,
    window_minutes BIGINT           NOT NULL,
    slide_minutes  BIGINT           NOT NULL,
    n              BIGINT           NOT NULL,
    n_nonpositive  BIGINT           NOT NULL,
    price_first    DOUBLE PRECISION NOT NULL,
    price_last     DOUBLE PRECISION NOT NULL,
    price_min      DOUBLE PRECISION NOT NULL,
    price_max      DOUBLE PRECISION NOT NULL,
    price_mean     DOUBLE PRECISION NOT NULL,
    vol_log        DOUBLE PRECISION,
    vol_abs        DOUBLE PRECISION,
    computed_at    TIMESTAMP        NOT NULL,
    PRIMARY KEY (iso, market, location, window_start, window_end)
) DISTKEY (location) COMPOUND SORTKEY (window_end, iso, location);

-- Location dimension: every priced or loaded location seen, with its type.
CREATE TABLE IF NOT EXISTS locations (
    iso            VARCHAR(8)       NOT NULL,
    location       VARCHAR(128)     NOT NULL,
    location_type  VARCHAR(16)      NOT NULL,
    first_date     DATE             NOT NULL,
    last_date      DATE             NOT NULL,
    PRIMARY KEY (iso, location)
) DISTSTYLE ALL SORTKEY (iso, location);

-- Per-target staging: Redshift's MERGE takes a table as its source (not a subquery, view or
-- CTE), so the load splits stg_ticks into these inside its transaction. Redshift's LIKE
-- copies the columns, NOT NULL, DISTKEY and SORTKEY but not the primary key; batch/warehouse.py
-- (expand_like) spells that out for both engines (DuckDB has no LIKE).
CREATE TABLE IF NOT EXISTS stg_prices (LIKE prices);
CREATE TABLE IF NOT EXISTS stg_load (LIKE load_mw);
CREATE TABLE IF NOT EXISTS stg_locations (LIKE locations);

-- The hubs (NYISO: zones) each ISO's traders track and the checks name one by one
-- (seeded from the ISO table, gridtape/isos.py, by batch/warehouse.py).
CREATE TABLE IF NOT EXISTS tracked_hubs (
    iso            VARCHAR(8)       NOT NULL,
    hub            VARCHAR(128)     NOT NULL,
    PRIMARY KEY (iso, hub)
) DISTSTYLE ALL SORTKEY (iso, hub);

-- Which hubs of neighbouring ISOs traders spread against (seeded from the ISO table).
CREATE TABLE IF NOT EXISTS hub_neighbours (
    iso_a          VARCHAR(8)       NOT NULL,
    hub_a          VARCHAR(128)     NOT NULL,
    iso_b          VARCHAR(8)       NOT NULL,
    hub_b          VARCHAR(128)     NOT NULL,
    PRIMARY KEY (iso_a, hub_a, iso_b, hub_b)
) DISTSTYLE ALL SORTKEY (iso_a, hub_a);

-- Data-quality results, one row per check, ISO, dataset, market and (for the per-hub checks)
-- location of a trade date (a rerun replaces the day's rows).
CREATE TABLE IF NOT EXISTS dq_results (
    trade_date     DATE             NOT NULL,
    iso            VARCHAR(8)       NOT NULL,
    dataset        VARCHAR(8)       NOT NULL,
    check_name     VARCHAR(32)      NOT NULL,
    passed         BOOLEAN          NOT NULL,
    observed       BIGINT,
    expected       BIGINT,
    detail         VARCHAR(4096),
    checked_at     TIMESTAMP        NOT NULL,
    market         VARCHAR(8),
    location       VARCHAR(128)
) DISTSTYLE ALL SORTKEY (trade_date, iso);

-- One row per nightly run that loaded every day it planned: the next run re-reads the days
-- whose raw objects arrived after started_at (batch/catchup.py).
CREATE TABLE IF NOT EXISTS nightly_runs (
    started_at     TIMESTAMP        NOT NULL,
    finished_at    TIMESTAMP        NOT NULL,
    trade_date     DATE             NOT NULL,
    days           VARCHAR(4096)    NOT NULL,
    PRIMARY KEY (started_at)
) DISTSTYLE ALL SORTKEY (started_at);

-- Spreads between neighbouring ISOs' hubs, per interval (what the DISTKEY is chosen for).
CREATE OR REPLACE VIEW hub_spreads AS
SELECT
    a.market,
    a.interval_start,
    a.trade_date,
    n.iso_a,
    n.hub_a,
    n.iso_b,
    n.hub_b,
    a.lmp AS lmp_a,
    b.lmp AS lmp_b,
    a.lmp - b.lmp AS spread
FROM hub_neighbours AS n
JOIN prices AS a ON a.iso = n.iso_a AND a.location = n.hub_a
JOIN prices AS b ON b.iso = n.iso_b AND b.location = n.hub_b
    AND b.market = a.market AND b.interval_start = a.interval_start;
