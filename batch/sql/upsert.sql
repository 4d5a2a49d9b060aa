-- Latest wins, then MERGE: one fact table from its staging table, the same for every fact
-- (batch/sql/load.sql and context.sql name this with {<table>.upsert}; batch/contract_sql.py
-- fills {fact} with the table and {staging} with its staging table, and the lists with the
-- columns and natural key of its contract).
-- The latest version of a natural key: the highest revision (a null revision counts lowest),
-- then published_at, then ingested_at, as compaction's (batch/transforms.py latest_first). A
-- staged row that loses to the fact row already held is dropped before the MERGE (Redshift's
-- MERGE has no WHEN MATCHED AND <condition>).
DELETE FROM {staging} USING {fact}
WHERE {fact.key_matches}
    AND (
        COALESCE({fact}.revision, -1) > COALESCE({staging}.revision, -1)
        OR (COALESCE({fact}.revision, -1) = COALESCE({staging}.revision, -1)
            AND ({fact}.published_at > {staging}.published_at
                OR ({fact}.published_at = {staging}.published_at AND {fact}.ingested_at > {staging}.ingested_at)))
    );

MERGE INTO {fact}
USING {staging}
ON {fact.key_matches}
WHEN MATCHED THEN UPDATE SET {fact.updates}
WHEN NOT MATCHED THEN INSERT ({fact.columns}) VALUES ({fact.staged_columns});
