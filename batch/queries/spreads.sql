-- name: spreads
-- answers: Price spreads between neighbouring ISOs' hubs (PJM-MISO, PJM-NYISO, NYISO-ISONE,
--   MISO-SPP, SPP-ERCOT, and CAISO SP15-NP15), aligned on the same interval of the same market
--   (5-minute by default); with --as-of, as both sides were known then.
-- param: market (str) = RT5 | market of both sides
-- param: iso_a (str) = '' | only pairs whose side a is this ISO ('' = all)
-- param: iso_b (str) = '' | only pairs whose side b is this ISO ('' = all)
-- param: until (timestamp) = @as_of | end of the range (exclusive), UTC
-- param: hours (int) = 24 | length of the range in hours
-- column: interval_start | interval beginning, UTC
-- column: iso_a | ISO of side a
-- column: hub_a | hub of side a
-- column: iso_b | ISO of side b
-- column: hub_b | hub of side b
-- column: lmp_a | $/MWh
-- column: lmp_b | $/MWh
-- column: spread | lmp_a - lmp_b, $/MWh
-- tables: hub_spreads (the warehouse view over hub_neighbours and prices)
SELECT interval_start, iso_a, hub_a, iso_b, hub_b, lmp_a, lmp_b, spread
FROM hub_spreads
WHERE market = :market
    AND (:iso_a = '' OR iso_a = :iso_a) AND (:iso_b = '' OR iso_b = :iso_b)
    AND interval_start >= DATEADD(hour, -:hours, :until) AND interval_start < :until
ORDER BY iso_a, hub_a, iso_b, hub_b, interval_start;
