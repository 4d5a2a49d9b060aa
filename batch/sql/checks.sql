-- Data-quality probes for one trade date (batch/checks.py turns their rows into verdicts;
-- the expected 5-minute grid of an ISO's local day is computed in Python, DST-aware).
-- Each statement is one named query: "-- name: <query>" starts it. Parameter: :trade_date.

-- name: intervals
-- Which 5-minute intervals each ISO and dataset has (RT5 market, every location pooled:
-- an interval counts as present when any location has it).
SELECT 'lmp' AS dataset, iso, interval_start FROM prices
WHERE trade_date = CAST(:trade_date AS DATE) AND market = 'RT5'
GROUP BY iso, interval_start
UNION ALL
SELECT 'load' AS dataset, iso, interval_start FROM load_mw
WHERE trade_date = CAST(:trade_date AS DATE) AND market = 'RT5'
GROUP BY iso, interval_start;

-- name: duplicates
-- Natural keys held more than once (the MERGE should make this impossible; the check proves it).
SELECT dataset, iso, SUM(n - 1) AS extra_rows FROM (
    SELECT 'lmp' AS dataset, iso, COUNT(*) AS n FROM prices
    WHERE trade_date = CAST(:trade_date AS DATE)
    GROUP BY iso, market, location, interval_start
    UNION ALL
    SELECT 'load' AS dataset, iso, COUNT(*) AS n FROM load_mw
    WHERE trade_date = CAST(:trade_date AS DATE)
    GROUP BY iso, market, location, interval_start
) AS k
WHERE n > 1
GROUP BY dataset, iso;

-- name: freshness
-- When each feed last delivered anything for the day, and the last interval it delivered.
SELECT 'lmp' AS dataset, iso, MAX(ingested_at) AS last_ingested, MAX(interval_end) AS last_interval_end, COUNT(*) AS n
FROM prices WHERE trade_date = CAST(:trade_date AS DATE) GROUP BY iso
UNION ALL
SELECT 'load' AS dataset, iso, MAX(ingested_at) AS last_ingested, MAX(interval_end) AS last_interval_end, COUNT(*) AS n
FROM load_mw WHERE trade_date = CAST(:trade_date AS DATE) GROUP BY iso;

-- name: out_of_range
-- Implausible values: LMP outside -2,000..10,000 $/MWh (beyond every ISO's offer caps and
-- floors), load at or below zero.
SELECT 'lmp' AS dataset, iso, COUNT(*) AS n, MIN(lmp) AS lowest, MAX(lmp) AS highest FROM prices
WHERE trade_date = CAST(:trade_date AS DATE) AND (lmp < -2000 OR lmp > 10000)
GROUP BY iso
UNION ALL
SELECT 'load' AS dataset, iso, COUNT(*) AS n, MIN(load_mw) AS lowest, MAX(load_mw) AS highest FROM load_mw
WHERE trade_date = CAST(:trade_date AS DATE) AND load_mw <= 0
GROUP BY iso;

-- name: clear_results
DELETE FROM dq_results WHERE trade_date = CAST(:trade_date AS DATE);
