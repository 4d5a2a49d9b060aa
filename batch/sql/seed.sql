-- Neighbouring trading hubs across ISO seams (both directions are queried through the
-- view's a/b sides, so each pair is stored once). Idempotent: delete-then-insert.
DELETE FROM hub_neighbours;

INSERT INTO hub_neighbours (iso_a, hub_a, iso_b, hub_b) VALUES
    ('PJM', 'WESTERN HUB', 'MISO', 'INDIANA.HUB'),
    ('PJM', 'WESTERN HUB', 'NYISO', 'WEST'),
    ('NYISO', 'HUD VL', 'ISONE', '.H.INTERNAL_HUB'),
    ('MISO', 'MINN.HUB', 'SPP', 'SPPNORTH_HUB'),
    ('MISO', 'ARKANSAS.HUB', 'SPP', 'SPPSOUTH_HUB'),
    ('SPP', 'SPPSOUTH_HUB', 'ERCOT', 'HB_NORTH'),
    ('CAISO', 'TH_SP15_GEN-APND', 'CAISO', 'TH_NP15_GEN-APND');
