-- name: dart
-- answers: DART per hub and hour: the real-time price (of the market the ISO settles on,
--   averaged over the hour) minus the day-ahead price of the same hour, with both prices and
--   how many real-time intervals the hour holds (a partial hour is shown, not hidden).
-- param: isos (list) = ALL | ISO codes
-- param: hub (str) = '' | one location ('' = every tracked hub of those ISOs)
-- param: until (timestamp) = @as_of | end of the range (exclusive), UTC
-- param: hours (int) = 24 | length of the range in hours
-- column: iso | ISO code
-- column: location | hub (NYISO: zone)
-- column: interval_start | hour beginning, UTC
-- column: da_lmp | day-ahead price of the hour, $/MWh
-- column: rt_lmp | real-time price averaged over the hour, $/MWh
-- column: rt_intervals | real-time intervals in the hour (12 of 5 minutes, 4 of 15 when complete)
-- column: dart | rt_lmp - da_lmp, $/MWh
-- tables: dart (the warehouse view over prices and settlement_markets), tracked_hubs
SELECT d.iso, d.location, d.interval_start, d.da_lmp, d.rt_lmp, d.rt_intervals, d.dart
FROM dart AS d
WHERE d.iso IN (:isos)
    AND ((:hub = '' AND EXISTS (SELECT 1 FROM tracked_hubs AS t WHERE t.iso = d.iso AND t.hub = d.location))
        OR d.location = :hub)
    AND d.interval_start >= DATEADD(hour, -:hours, :until) AND d.interval_start < :until
ORDER BY d.iso, d.location, d.interval_start;
