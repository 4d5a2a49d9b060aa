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
-- tables: hub_neighbours (from the ISO table), prices
SELECT
    a.interval_start,
    n.iso_a,
    n.hub_a,
    n.iso_b,
    n.hub_b,
    a.lmp AS lmp_a,
    b.lmp AS lmp_b,
    a.lmp - b.lmp AS spread
FROM hub_neighbours AS n
JOIN prices AS a ON a.iso = n.iso_a AND a.location = n.hub_a
JOIN prices AS b ON b.iso = n.iso_b AND b.location = n.hub_b
    AND b.market = a.market AND b.interval_start = a.interval_start
WHERE a.market = :market
    AND (:iso_a = '' OR n.iso_a = :iso_a) AND (:iso_b = '' OR n.iso_b = :iso_b)
    AND a.interval_start >= DATEADD(hour, -:hours, :until) AND a.interval_start < :until
ORDER BY n.iso_a, n.hub_a, n.iso_b, n.hub_b, a.interval_start;
