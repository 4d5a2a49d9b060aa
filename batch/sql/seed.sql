-- Seeds. Idempotent: delete, then batch/warehouse.py inserts the rows of the ISO table
-- (gridtape/isos.py: every ISO's tracked hubs, every seam's neighbouring hubs, the real-time
-- market each ISO settles on), so the ISO
-- table stays the one place these facts live. Each spread pair is stored once (the view's
-- a/b sides serve both directions).
DELETE FROM hub_neighbours;
DELETE FROM tracked_hubs;
DELETE FROM settlement_markets;
