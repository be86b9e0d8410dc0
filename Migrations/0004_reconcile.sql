-- Skiff ledger, schema 4: reconcile runs and their findings (the audit of drift between local
-- dirs, ledger and bucket), and where a block's row came from.

-- 'shipped': this ledger recorded the upload; 'adopted': found committed in the bucket by the
-- shipper or `skiff reconcile --repair`; 'rebuilt': recreated by `skiff ledger rebuild` (its
-- history before the rebuild is unknown).
ALTER TABLE blocks ADD COLUMN origin TEXT NOT NULL DEFAULT 'shipped'
    CHECK (origin IN ('shipped', 'adopted', 'rebuilt'));

CREATE TABLE reconcile_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    mode        TEXT    NOT NULL CHECK (mode IN ('report', 'dry_run', 'repair')),
    blocks      INTEGER NOT NULL,               -- blocks compared
    drifted     INTEGER NOT NULL,               -- blocks needing attention after the run
    repaired    INTEGER NOT NULL                -- actions taken (0 unless mode = 'repair')
);

-- One row per block that was not in sync (healthy blocks are counted, not listed).
CREATE TABLE reconcile_findings (
    run_id  INTEGER NOT NULL REFERENCES reconcile_runs (id),
    ulid    TEXT    NOT NULL,
    status  TEXT    NOT NULL,
    detail  TEXT    NOT NULL,
    action  TEXT,                               -- what --repair did or would do; NULL: nothing
    outcome TEXT,                               -- 'done', 'planned' (dry run) or the error
    PRIMARY KEY (run_id, ulid)
) WITHOUT ROWID;

-- The findings of the most recent reconcile run.
CREATE VIEW last_reconcile AS
SELECT r.id AS run_id, r.started_at, strftime('%Y-%m-%dT%H:%M:%SZ', r.started_at / 1000, 'unixepoch') AS started_at_utc,
       r.mode, f.ulid, f.status, f.detail, f.action, f.outcome
FROM reconcile_runs r JOIN reconcile_findings f ON f.run_id = r.id
WHERE r.id = (SELECT max(id) FROM reconcile_runs);
