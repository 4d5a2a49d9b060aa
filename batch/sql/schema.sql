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
--
-- Tables that hold a record contract's records (gridtape/contract.py, gridtape/context.py) take
-- their columns from it: {<table>.definitions} is filled by batch/contract_sql.py before the
-- file is parsed, one column per contract field (type from its kind, NOT NULL unless it is
-- nullable; a string's width from WIDTHS there), then PRIMARY KEY (its natural key).

-- Every tick field, then trade_date, no key.
CREATE TABLE IF NOT EXISTS stg_ticks (
    -- Column order = the curated Parquet column order (COPY ... PARQUET maps by position).
    {stg_ticks.definitions}
) DISTSTYLE EVEN;

-- The facts of one dataset each: the tick's fields less dataset and the other dataset's
-- measures, trade_date after interval_end, the measure (lmp, load_mw) required; key: the
-- tick's natural key less dataset.
CREATE TABLE IF NOT EXISTS prices (
    {prices.definitions}
) DISTKEY (interval_start) COMPOUND SORTKEY (interval_start, iso, location);

CREATE TABLE IF NOT EXISTS load_mw (
    {load_mw.definitions}
) DISTKEY (interval_start) COMPOUND SORTKEY (interval_start, iso, location);

-- Rolling volatility from the streaming job (gridtape.contract.VOLATILITY), same keys idea:
-- queries are "a location's volatility over time".
CREATE TABLE IF NOT EXISTS volatility (
    {volatility.definitions}
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

-- The real-time market each ISO settles on (ERCOT: 15-minute settlement point prices; the
-- others: 5-minute), which DART averages per hour (seeded from the ISO table).
CREATE TABLE IF NOT EXISTS settlement_markets (
    iso            VARCHAR(8)       NOT NULL,
    market         VARCHAR(8)       NOT NULL,
    PRIMARY KEY (iso)
) DISTSTYLE ALL SORTKEY (iso);

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

-- DART per location and hour: the real-time price of the market the ISO settles on, averaged
-- over the hour (rt_intervals says how many intervals it holds: 12 of 5 minutes, 4 of 15 when
-- complete), minus the day-ahead price of that hour. Positive: real time cleared above the
-- day-ahead. Hours are whole hours in UTC as on every US market clock.
CREATE OR REPLACE VIEW dart AS
SELECT
    d.iso,
    d.location,
    d.location_type,
    d.interval_start,
    d.interval_end,
    d.trade_date,
    d.lmp AS da_lmp,
    rt.rt_lmp,
    rt.rt_intervals,
    rt.rt_lmp - d.lmp AS dart
FROM prices AS d
JOIN (
    SELECT
        p.iso,
        p.location,
        DATE_TRUNC('hour', p.interval_start) AS hour_start,
        AVG(p.lmp) AS rt_lmp,
        COUNT(*) AS rt_intervals
    FROM prices AS p
    JOIN settlement_markets AS s ON s.iso = p.iso AND s.market = p.market
    GROUP BY p.iso, p.location, DATE_TRUNC('hour', p.interval_start)
) AS rt ON rt.iso = d.iso AND rt.location = d.location AND rt.hour_start = d.interval_start
WHERE d.market = 'DAM';

-- Prices with their context, one row per tracked hub and hour (batch/context builds it each
-- night from the facts and the enrichment tables): the hub's real-time settlement price
-- averaged over the hour, the load of its zone (else the ISO's), generation out of service,
-- customers without power and the weather of its zone. Context that is missing reads as NULL
-- (unknown), never as zero; outage_scope says whether outage_mw is the zone's or the ISO's.
CREATE TABLE IF NOT EXISTS enriched_prices (
    iso            VARCHAR(8)       NOT NULL,
    location       VARCHAR(128)     NOT NULL,
    zone           VARCHAR(128)     NOT NULL,
    interval_start TIMESTAMP        NOT NULL,
    trade_date     DATE             NOT NULL,
    lmp            DOUBLE PRECISION,
    load_mw        DOUBLE PRECISION,
    outage_mw      DOUBLE PRECISION,
    outage_scope   VARCHAR(8),
    customers_out  BIGINT,
    temperature_c  DOUBLE PRECISION,
    dew_point_c    DOUBLE PRECISION,
    wind_mps       DOUBLE PRECISION,
    PRIMARY KEY (iso, location, interval_start)
) DISTKEY (interval_start) COMPOUND SORTKEY (interval_start, iso, location);

-- The enrichment's facts (gridtape/context.py contracts), loaded each night by batch/context.py
-- from raw/context/ (latest version per natural key wins, as for ticks). Hourly joins read them
-- by time first: SORTKEY on the time column; small tables, so they live on every slice's
-- neighbour by time (DISTKEY on the time column, as the prices they sit beside).
CREATE TABLE IF NOT EXISTS outages (
    {outages.definitions}
) DISTKEY (interval_start) COMPOUND SORTKEY (interval_start, iso, area);

CREATE TABLE IF NOT EXISTS weather_obs (
    {weather_obs.definitions}
) DISTKEY (observed_at) COMPOUND SORTKEY (observed_at, station);

CREATE TABLE IF NOT EXISTS customers_out (
    {customers_out.definitions}
) DISTKEY (interval_start) COMPOUND SORTKEY (interval_start, iso, zone);

CREATE TABLE IF NOT EXISTS stg_outages (LIKE outages);
CREATE TABLE IF NOT EXISTS stg_weather_obs (LIKE weather_obs);
CREATE TABLE IF NOT EXISTS stg_customers_out (LIKE customers_out);

-- The hours a context run rebuilds: every hour of each ISO's operating day (23 / 25 on the DST
-- days), written by batch/context.py before context.sql runs.
CREATE TABLE IF NOT EXISTS stg_context_hours (
    iso            VARCHAR(8)       NOT NULL,
    interval_start TIMESTAMP        NOT NULL,
    interval_end   TIMESTAMP        NOT NULL,
    trade_date     DATE             NOT NULL
) DISTSTYLE ALL;

-- Where context is read for a tracked hub (gridtape/regions.py, gridtape/counties.py; seeded by
-- batch/context.py): its zone (or the ISO's system area) and system area, and the area whose
-- counties' customers it is set beside (the zone when the county table maps counties to that
-- zone, else the system area: every county of the ISO).
CREATE TABLE IF NOT EXISTS hub_zones (
    iso            VARCHAR(8)       NOT NULL,
    hub            VARCHAR(128)     NOT NULL,
    zone           VARCHAR(128)     NOT NULL,
    system_area    VARCHAR(128)     NOT NULL,
    customers_area VARCHAR(128)     NOT NULL,
    PRIMARY KEY (iso, hub)
) DISTSTYLE ALL SORTKEY (iso, hub);

-- The weather of an area = the weighted mean of its stations (a zone: its own stations with
-- their weights; the system area: every station with zone weight x station weight).
CREATE TABLE IF NOT EXISTS area_stations (
    iso            VARCHAR(8)       NOT NULL,
    area           VARCHAR(128)     NOT NULL,
    station        VARCHAR(8)       NOT NULL,
    weight         DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (iso, area, station)
) DISTSTYLE ALL SORTKEY (iso, area);
