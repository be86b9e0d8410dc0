-- Skiff ledger, schema 6: the ledger's identity, a random id given to each ledger file once (a
-- ledger made by `skiff ledger rebuild` gets a new one). The fleet audit names its objects and
-- records with it: a rebuilt ledger numbers its transitions from 1 again, and two sidecars may
-- share external labels by mistake; neither may overwrite audit objects another ledger wrote.

CREATE TABLE ledger_identity (
    id          INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),   -- one row
    ledger_id   TEXT    NOT NULL CHECK (length(ledger_id) = 16 AND ledger_id NOT GLOB '*[^0-9a-f]*'),
    assigned_at INTEGER NOT NULL                                -- when this migration ran (Unix ms)
);

INSERT INTO ledger_identity (id, ledger_id, assigned_at)
VALUES (1, lower(hex(randomblob(8))), CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));

CREATE TRIGGER ledger_identity_is_fixed BEFORE UPDATE ON ledger_identity
BEGIN
    SELECT RAISE(ABORT, 'the ledger identity never changes');
END;
