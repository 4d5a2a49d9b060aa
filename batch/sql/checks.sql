-- Data-quality probes for one trade date (batch/checks.py turns their rows into verdicts;
-- the expected grid of each feed in its ISO's local day is computed in Python, DST-aware).
-- Each statement is one named query: "-- name: <query>" starts it. Parameters: :trade_date,
-- and the bounds of gridtape/bounds.py (:price_min, :price_max, :load_max).

-- name: intervals
-- Which intervals each ISO, dataset and market has, every location pooled (an interval
-- counts as present when any location has it): the load feeds' check.
SELECT 'lmp' AS dataset, iso, market, interval_start FROM prices
WHERE trade_date = CAST(:trade_date AS DATE)
GROUP BY iso, market, interval_start
UNION ALL
SELECT 'load' AS dataset, iso, market, interval_start FROM load_mw
WHERE trade_date = CAST(:trade_date AS DATE)
GROUP BY iso, market, interval_start;

-- name: hub_intervals
-- Which intervals each tracked hub has, per market: the price feeds' check, hub by hub, so
-- one missing hub is named even when the others cover every interval.
SELECT 'lmp' AS dataset, p.iso, p.market, p.location, p.interval_start
FROM prices AS p
JOIN tracked_hubs AS h ON h.iso = p.iso AND h.hub = p.location
WHERE p.trade_date = CAST(:trade_date AS DATE)
GROUP BY p.iso, p.market, p.location, p.interval_start;

-- name: duplicates
-- Natural keys held more than once (the MERGE should make this impossible; the check proves it).
SELECT dataset, iso, market, SUM(n - 1) AS extra_rows FROM (
    SELECT 'lmp' AS dataset, iso, market, COUNT(*) AS n FROM prices
    WHERE trade_date = CAST(:trade_date AS DATE)
    GROUP BY iso, market, location, interval_start
    UNION ALL
    SELECT 'load' AS dataset, iso, market, COUNT(*) AS n FROM load_mw
    WHERE trade_date = CAST(:trade_date AS DATE)
    GROUP BY iso, market, location, interval_start
) AS k
WHERE n > 1
GROUP BY dataset, iso, market;

-- name: freshness
-- When each feed last delivered anything for the day, and the last interval it delivered.
SELECT 'lmp' AS dataset, iso, market, MAX(ingested_at) AS last_ingested, MAX(interval_end) AS last_interval_end,
    COUNT(*) AS n
FROM prices WHERE trade_date = CAST(:trade_date AS DATE) GROUP BY iso, market
UNION ALL
SELECT 'load' AS dataset, iso, market, MAX(ingested_at) AS last_ingested, MAX(interval_end) AS last_interval_end,
    COUNT(*) AS n
FROM load_mw WHERE trade_date = CAST(:trade_date AS DATE) GROUP BY iso, market;

-- name: out_of_range
-- Values outside the bounds every copy of the contract enforces (compaction rejects them,
-- so this proves nothing got around it).
SELECT 'lmp' AS dataset, iso, market, COUNT(*) AS n, MIN(lmp) AS lowest, MAX(lmp) AS highest FROM prices
WHERE trade_date = CAST(:trade_date AS DATE) AND (lmp < :price_min OR lmp > :price_max)
GROUP BY iso, market
UNION ALL
SELECT 'load' AS dataset, iso, market, COUNT(*) AS n, MIN(load_mw) AS lowest, MAX(load_mw) AS highest FROM load_mw
WHERE trade_date = CAST(:trade_date AS DATE) AND (load_mw <= 0 OR load_mw > :load_max)
GROUP BY iso, market;

-- name: clear_results
DELETE FROM dq_results WHERE trade_date = CAST(:trade_date AS DATE);
