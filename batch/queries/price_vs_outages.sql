-- name: price_vs_outages
-- answers: Price against generation out of service and customers without power: a tracked hub's
--   hourly real-time settlement price with the outage MW of its zone (outage_scope 'zone'), else
--   of its ISO ('system'), and the customers out in the counties of its zone, hour by hour
--   (enriched_prices, rebuilt each night). NULL context is unknown (no report), never zero.
-- param: iso (str) = ERCOT | ISO code
-- param: hub (str) = HB_NORTH | tracked hub (NYISO: zone)
-- param: until (timestamp) = @as_of | end of the range (exclusive), UTC
-- param: hours (int) = 24 | length of the range in hours
-- column: interval_start | hour beginning, UTC
-- column: lmp | real-time settlement price averaged over the hour, $/MWh
-- column: outage_mw | generation unavailable in the hour, MW; NULL = no report
-- column: outage_scope | zone or system: whose outage_mw it is; NULL when unknown
-- column: customers_out | customers without power (peak 15 minutes per county, summed); NULL = no report
-- tables: enriched_prices
SELECT e.interval_start, e.lmp, e.outage_mw, e.outage_scope, e.customers_out
FROM enriched_prices AS e
WHERE e.iso = :iso AND e.location = :hub AND e.lmp IS NOT NULL
    AND e.interval_start >= DATEADD(hour, -:hours, :until) AND e.interval_start < :until
ORDER BY e.interval_start;
