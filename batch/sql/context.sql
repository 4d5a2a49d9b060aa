-- Load one day of context into its facts and rebuild enriched_prices for that trade date.
-- batch/context.py fills stg_outages / stg_weather_obs / stg_customers_out (the day's raw/context
-- records, validated, one version per natural key) and stg_context_hours (every hour of each
-- ISO's operating day), then runs this as ONE transaction. Idempotent: staged versions that lose
-- to the facts are dropped, the rest are MERGEd (latest wins, as for ticks: batch/sql/upsert.sql,
-- with the columns of gridtape/context.py's contracts); the day's enriched rows
-- are deleted and rebuilt from the facts, so running the day twice gives the same tables.
-- Parameters: :trade_date.

-- Latest wins, then MERGE (batch/sql/upsert.sql, for each fact).
{outages.upsert}

{weather_obs.upsert}

{customers_out.upsert}

DELETE FROM enriched_prices
WHERE trade_date = CAST(:trade_date AS DATE)
    AND iso IN (SELECT DISTINCT iso FROM stg_context_hours);

-- One row per tracked hub and hour of the ISO's day. Join rules (README "Enrichment"):
-- lmp: the hub's settlement real-time prices averaged over the hour; load_mw: the zone's load
-- (real-time markets, averaged over the hour), else the ISO's system load; outage_mw: the zone's
-- rows, else the ISO's system rows (outage_scope says which), per area and hour the 'total' kind
-- where published, else the sum of the other kinds, summed over fuels (each fuel and kind first
-- averaged over the intervals overlapping the hour); customers_out: per county the hour's peak
-- 15-minute count, summed over the counties of the hub's customers area; weather: the weighted
-- mean of the area's stations that reported a value in the hour (each station's hourly mean).
-- No fact: NULL, never 0. hourly_load: each location's real-time load per hour of the day, joined
-- once for the zone (lz) and once for the system area (ls).
INSERT INTO enriched_prices (
    iso, location, zone, interval_start, trade_date, lmp, load_mw, outage_mw, outage_scope,
    customers_out, temperature_c, dew_point_c, wind_mps
)
WITH hourly_load AS (
    SELECT l.iso, l.location, DATE_TRUNC('hour', l.interval_start) AS hour_start, AVG(l.load_mw) AS load_mw
    FROM load_mw AS l
    WHERE l.market <> 'DAM'
        AND l.interval_start >= (SELECT MIN(interval_start) FROM stg_context_hours)
        AND l.interval_start < (SELECT MAX(interval_end) FROM stg_context_hours)
    GROUP BY l.iso, l.location, DATE_TRUNC('hour', l.interval_start)
)
SELECT
    h.iso,
    z.hub,
    z.zone,
    h.interval_start,
    h.trade_date,
    rt.lmp,
    COALESCE(lz.load_mw, ls.load_mw),
    COALESCE(oz.outage_mw, os.outage_mw),
    CASE WHEN oz.outage_mw IS NOT NULL THEN 'zone' WHEN os.outage_mw IS NOT NULL THEN 'system' END,
    CAST(co.customers_out AS BIGINT),
    w.temperature_c,
    w.dew_point_c,
    w.wind_mps
FROM stg_context_hours AS h
JOIN hub_zones AS z ON z.iso = h.iso
LEFT JOIN (
    SELECT p.iso, p.location, DATE_TRUNC('hour', p.interval_start) AS hour_start, AVG(p.lmp) AS lmp
    FROM prices AS p
    JOIN settlement_markets AS m ON m.iso = p.iso AND m.market = p.market
    WHERE p.interval_start >= (SELECT MIN(interval_start) FROM stg_context_hours)
        AND p.interval_start < (SELECT MAX(interval_end) FROM stg_context_hours)
    GROUP BY p.iso, p.location, DATE_TRUNC('hour', p.interval_start)
) AS rt ON rt.iso = h.iso AND rt.location = z.hub AND rt.hour_start = h.interval_start
LEFT JOIN hourly_load AS lz ON lz.iso = h.iso AND lz.location = z.zone AND lz.hour_start = h.interval_start
LEFT JOIN hourly_load AS ls ON ls.iso = h.iso AND ls.location = z.system_area AND ls.hour_start = h.interval_start
LEFT JOIN (
    SELECT k.iso, k.area_type, k.area, k.hour_start,
        CASE WHEN MAX(CASE WHEN k.kind = 'total' THEN 1 ELSE 0 END) = 1
            THEN SUM(CASE WHEN k.kind = 'total' THEN k.mw END)
            ELSE SUM(k.mw) END AS outage_mw
    FROM (
        SELECT o.iso, o.area_type, o.area, o.fuel, o.kind, oh.interval_start AS hour_start, AVG(o.outage_mw) AS mw
        FROM outages AS o
        JOIN stg_context_hours AS oh ON oh.iso = o.iso
            AND o.interval_start < oh.interval_end AND o.interval_end > oh.interval_start
        GROUP BY o.iso, o.area_type, o.area, o.fuel, o.kind, oh.interval_start
    ) AS k
    GROUP BY k.iso, k.area_type, k.area, k.hour_start
) AS oz ON oz.iso = h.iso AND oz.area_type = 'zone' AND oz.area = z.zone AND oz.hour_start = h.interval_start
LEFT JOIN (
    SELECT k.iso, k.area, k.hour_start,
        CASE WHEN MAX(CASE WHEN k.kind = 'total' THEN 1 ELSE 0 END) = 1
            THEN SUM(CASE WHEN k.kind = 'total' THEN k.mw END)
            ELSE SUM(k.mw) END AS outage_mw
    FROM (
        SELECT o.iso, o.area, o.fuel, o.kind, oh.interval_start AS hour_start, AVG(o.outage_mw) AS mw
        FROM outages AS o
        JOIN stg_context_hours AS oh ON oh.iso = o.iso
            AND o.interval_start < oh.interval_end AND o.interval_end > oh.interval_start
        WHERE o.area_type = 'system'
        GROUP BY o.iso, o.area, o.fuel, o.kind, oh.interval_start
    ) AS k
    GROUP BY k.iso, k.area, k.hour_start
) AS os ON os.iso = h.iso AND os.area = z.system_area AND os.hour_start = h.interval_start
LEFT JOIN (
    SELECT a.iso, a.area, a.hour_start, SUM(a.n) AS customers_out
    FROM (
        SELECT c.iso, hz.customers_area AS area, c.fips, ch.interval_start AS hour_start, MAX(c.customers_out) AS n
        FROM customers_out AS c
        JOIN stg_context_hours AS ch ON ch.iso = c.iso
            AND c.interval_start >= ch.interval_start AND c.interval_start < ch.interval_end
        JOIN (SELECT DISTINCT iso, system_area, customers_area FROM hub_zones) AS hz ON hz.iso = c.iso
            AND (hz.customers_area = hz.system_area OR hz.customers_area = c.zone)
        GROUP BY c.iso, hz.customers_area, c.fips, ch.interval_start
    ) AS a
    GROUP BY a.iso, a.area, a.hour_start
) AS co ON co.iso = h.iso AND co.area = z.customers_area AND co.hour_start = h.interval_start
LEFT JOIN (
    SELECT s.iso, s.area, sh.hour_start,
        SUM(s.weight * sh.temperature_c) / NULLIF(SUM(CASE WHEN sh.temperature_c IS NOT NULL THEN s.weight END), 0)
            AS temperature_c,
        SUM(s.weight * sh.dew_point_c) / NULLIF(SUM(CASE WHEN sh.dew_point_c IS NOT NULL THEN s.weight END), 0)
            AS dew_point_c,
        SUM(s.weight * sh.wind_mps) / NULLIF(SUM(CASE WHEN sh.wind_mps IS NOT NULL THEN s.weight END), 0)
            AS wind_mps
    FROM area_stations AS s
    JOIN (
        SELECT st.iso, o.station, wh.interval_start AS hour_start,
            AVG(o.temperature_c) AS temperature_c, AVG(o.dew_point_c) AS dew_point_c, AVG(o.wind_mps) AS wind_mps
        FROM weather_obs AS o
        JOIN (SELECT DISTINCT iso, station FROM area_stations) AS st ON st.station = o.station
        JOIN stg_context_hours AS wh ON wh.iso = st.iso
            AND o.observed_at >= wh.interval_start AND o.observed_at < wh.interval_end
        GROUP BY st.iso, o.station, wh.interval_start
    ) AS sh ON sh.iso = s.iso AND sh.station = s.station
    GROUP BY s.iso, s.area, sh.hour_start
) AS w ON w.iso = h.iso AND w.area = z.zone AND w.hour_start = h.interval_start;

DELETE FROM stg_outages;
DELETE FROM stg_weather_obs;
DELETE FROM stg_customers_out;
DELETE FROM stg_context_hours;
