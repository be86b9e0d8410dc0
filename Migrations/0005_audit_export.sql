-- Skiff ledger, schema 5: the export cursor of the fleet audit (`--audit.export`), which copies
-- the transition log to the bucket under skiff-audit/v1/ so one engine can query every sidecar.
--
-- Exactly once: a batch is planned here first (`pending_through`, with the labels it is exported
-- under), its objects are written to the bucket under names derived from the transition ids, and
-- only then does `exported_through` advance (and `pending_through` clear) in one transaction. A
-- crash between the two re-exports the same planned range under the same names, so an object is
-- rewritten, never duplicated, and no transition is skipped.

CREATE TABLE audit_export (
    id               INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),   -- one row
    exported_through INTEGER NOT NULL DEFAULT 0,   -- every transition with id <= this is in the bucket
    pending_through  INTEGER,                      -- the planned batch's last id; NULL: none planned
    pending_labels   TEXT,                         -- the external labels the planned batch is written under
    updated_at       INTEGER NOT NULL DEFAULT 0
);

INSERT INTO audit_export (id) VALUES (1);
