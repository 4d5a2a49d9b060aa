-- name: prices
-- answers: A location's prices over a time range (with --as-of: as they were known then).
-- param: iso (str) = PJM | ISO code
-- param: location (str) = WESTERN HUB | hub, zone or node name as the ISO spells it
-- param: market (str) = RT5 | market of the prices
-- param: until (timestamp) = @as_of | end of the range (exclusive), UTC; default the reference time
-- param: hours (int) = 24 | length of the range in hours
-- column: interval_start | interval beginning, UTC
-- column: interval_end | interval end, UTC
-- column: lmp | $/MWh
-- column: energy | $/MWh, NULL where the ISO does not publish it
-- column: congestion | $/MWh, NULL where the ISO does not publish it
-- column: loss | $/MWh, NULL where the ISO does not publish it
-- column: published_at | when the ISO published it, UTC
-- column: ingested_at | when gridtape fetched it, UTC
-- tables: prices
SELECT interval_start, interval_end, lmp, energy, congestion, loss, published_at, ingested_at
FROM prices
WHERE iso = :iso AND location = :location AND market = :market
    AND interval_start >= DATEADD(hour, -:hours, :until) AND interval_start < :until
ORDER BY interval_start;
