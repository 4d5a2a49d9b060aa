-- name: demand_vs_price
-- answers: Demand against price in a region: each price interval of a hub with the load of the
--   ISO (or of one load zone) over the interval that contains it (an hourly load covers its
--   twelve 5-minute prices), and the Pearson correlation of the two over the range.
-- param: iso (str) = PJM | ISO code
-- param: hub (str) = WESTERN HUB | priced location
-- param: zone (str) = '' | load location; '' = the ISO's system-wide load
-- param: market (str) = RT5 | market of the prices
-- param: until (timestamp) = @as_of | end of the range (exclusive), UTC
-- param: hours (int) = 24 | length of the range in hours
-- column: interval_start | price interval beginning, UTC
-- column: interval_end | price interval end, UTC
-- column: load_mw | MW over the interval
-- column: lmp | $/MWh
-- column: n | aligned intervals in the range
-- column: correlation | Pearson correlation of load_mw and lmp over the range; NULL if either is flat
-- tables: prices, load_mw
WITH aligned AS (
    SELECT p.interval_start, p.interval_end, l.load_mw, p.lmp
    FROM prices AS p
    JOIN load_mw AS l
        ON l.iso = p.iso
        AND ((:zone = '' AND l.location_type = 'system') OR l.location = :zone)
        AND p.interval_start >= l.interval_start AND p.interval_start < l.interval_end
    WHERE p.iso = :iso AND p.location = :hub AND p.market = :market
        AND p.interval_start >= DATEADD(hour, -:hours, :until) AND p.interval_start < :until
)
-- Redshift has no CORR(): cov / (sd * sd) from population moments, as window aggregates.
SELECT
    interval_start,
    interval_end,
    load_mw,
    lmp,
    COUNT(*) OVER () AS n,
    (AVG(load_mw * lmp) OVER () - AVG(load_mw) OVER () * AVG(lmp) OVER ())
        / NULLIF(STDDEV_POP(load_mw) OVER () * STDDEV_POP(lmp) OVER (), 0) AS correlation
FROM aligned
ORDER BY interval_start;
