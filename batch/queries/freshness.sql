-- name: freshness
-- answers: How fresh the data is for each ISO and dataset: the newest interval, publication
--   and ingestion, and their ages. An ISO/dataset with nothing in the look-back gets NULLs.
-- param: isos (list) = ALL | comma-separated ISO codes (default: all seven)
-- param: hours (int) = 72 | look back this many hours (bounds the scan)
-- column: iso | ISO code
-- column: dataset | lmp or load
-- column: locations | distinct locations with data in the look-back
-- column: last_interval_end | newest interval end, UTC
-- column: last_published_at | newest publication, UTC
-- column: last_ingested_at | newest ingestion, UTC
-- column: data_age_seconds | reference time minus last_interval_end
-- column: ingest_age_seconds | reference time minus last_ingested_at
-- tables: iso_datasets (from the ISO table), prices, load_mw
WITH recent AS (
    SELECT iso, 'lmp' AS dataset, location, interval_start, interval_end, published_at, ingested_at
    FROM prices
    UNION ALL
    SELECT iso, 'load' AS dataset, location, interval_start, interval_end, published_at, ingested_at
    FROM load_mw
),
latest AS (
    SELECT iso, dataset, COUNT(DISTINCT location) AS locations,
        MAX(interval_end) AS last_interval_end, MAX(published_at) AS last_published_at,
        MAX(ingested_at) AS last_ingested_at
    FROM recent
    WHERE interval_start >= DATEADD(hour, -:hours, :as_of) AND interval_start <= :as_of
    GROUP BY iso, dataset
)
SELECT
    d.iso,
    d.dataset,
    COALESCE(l.locations, 0) AS locations,
    l.last_interval_end,
    l.last_published_at,
    l.last_ingested_at,
    DATEDIFF(second, l.last_interval_end, :as_of) AS data_age_seconds,
    DATEDIFF(second, l.last_ingested_at, :as_of) AS ingest_age_seconds
FROM iso_datasets AS d
LEFT JOIN latest AS l ON l.iso = d.iso AND l.dataset = d.dataset
WHERE d.iso IN (:isos)
ORDER BY d.iso, d.dataset;
