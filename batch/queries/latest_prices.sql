-- name: latest_prices
-- answers: The latest price at every tracked hub (NYISO: zone) of the seven ISOs, and how old
--   it is. A hub with no price in the window still gets a row, with NULL price and age, so a
--   silent hub shows up.
-- param: market (str) = RT5 | market of the prices: RT5, RT15, RTH or DAM
-- param: isos (list) = ALL | comma-separated ISO codes (default: all seven)
-- param: hours (int) = 24 | look back this many hours before the reference time for a price
-- column: iso | ISO code
-- column: location | the tracked hub (gridtape/isos.py hubs)
-- column: market | market of the price
-- column: interval_start | interval beginning, UTC
-- column: interval_end | interval end, UTC
-- column: lmp | $/MWh
-- column: published_at | when the ISO published it, UTC
-- column: ingested_at | when gridtape fetched it, UTC
-- column: age_seconds | reference time (now, or --as-of) minus interval_end
-- tables: tracked_hubs (from the ISO table), prices
SELECT
    h.iso,
    h.hub AS location,
    p.market,
    p.interval_start,
    p.interval_end,
    p.lmp,
    p.published_at,
    p.ingested_at,
    DATEDIFF(second, p.interval_end, :as_of) AS age_seconds
FROM tracked_hubs AS h
LEFT JOIN (
    SELECT
        iso, location, market, interval_start, interval_end, lmp, published_at, ingested_at,
        -- NULLS LAST (interval_start is NOT NULL, so the answer is the same): DuckDB then keeps its
        -- per-group top-1 fast path, which sqlglot's default NULLS FIRST for Redshift DESC defeats.
        ROW_NUMBER() OVER (PARTITION BY iso, location ORDER BY interval_start DESC NULLS LAST) AS recency
    FROM prices
    WHERE market = :market
        AND interval_start >= DATEADD(hour, -:hours, :as_of) AND interval_start <= :as_of
) AS p ON p.iso = h.iso AND p.location = h.hub AND p.recency = 1
WHERE h.iso IN (:isos)
ORDER BY h.iso, h.hub;
