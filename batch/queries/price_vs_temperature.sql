-- name: price_vs_temperature
-- answers: Price against the weather: a tracked hub's hourly real-time settlement price with the
--   load of its zone (else of its ISO) and the zone's temperature, dew point and wind (weighted
--   mean of the zone's NWS stations that reported in the hour), hour by hour (enriched_prices,
--   rebuilt each night). NULL context is unknown (no observation), never zero.
-- param: iso (str) = ERCOT | ISO code
-- param: hub (str) = HB_NORTH | tracked hub (NYISO: zone)
-- param: until (timestamp) = @as_of | end of the range (exclusive), UTC
-- param: hours (int) = 24 | length of the range in hours
-- column: interval_start | hour beginning, UTC
-- column: lmp | real-time settlement price averaged over the hour, $/MWh
-- column: load_mw | load of the hub's zone (else the ISO's) averaged over the hour, MW
-- column: temperature_c | air temperature, degrees C
-- column: dew_point_c | dew point, degrees C
-- column: wind_mps | wind speed, m/s
-- tables: enriched_prices
SELECT e.interval_start, e.lmp, e.load_mw, e.temperature_c, e.dew_point_c, e.wind_mps
FROM enriched_prices AS e
WHERE e.iso = :iso AND e.location = :hub AND e.lmp IS NOT NULL
    AND e.interval_start >= DATEADD(hour, -:hours, :until) AND e.interval_start < :until
ORDER BY e.interval_start;
