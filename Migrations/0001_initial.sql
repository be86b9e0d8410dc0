-- Skiff ledger, schema 1: blocks, their files, and the append-only transition log.
-- Released migrations are never edited; a change is a new numbered file.
-- Times are Unix milliseconds (UTC).

CREATE TABLE blocks (
    ulid            TEXT    NOT NULL PRIMARY KEY,
    min_time        INTEGER NOT NULL,
    max_time        INTEGER NOT NULL,
    level           INTEGER NOT NULL,
    num_samples     INTEGER NOT NULL,
    num_series      INTEGER NOT NULL,
    num_chunks      INTEGER NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('discovered', 'hashed', 'chunks_uploaded',
                        'index_uploaded', 'committed', 'failed', 'cleaned', 'ignored')),
    -- In state 'failed': the progress state a retry returns to; NULL when the block is abandoned.
    resume_state    TEXT    CHECK (resume_state IN ('discovered', 'hashed', 'chunks_uploaded', 'index_uploaded')),
    -- In state 'failed': 1 when the local block is unreadable (it must not hold back newer blocks).
    quarantined     INTEGER NOT NULL DEFAULT 0 CHECK (quarantined IN (0, 1)),
    attempts        INTEGER NOT NULL DEFAULT 0,   -- failed attempts so far
    last_error      TEXT,
    reason          TEXT,                         -- why the block is ignored
    next_attempt_at INTEGER,
    total_bytes     INTEGER,                      -- chunks + index, known once hashed
    uploaded_bytes  INTEGER NOT NULL DEFAULT 0,
    meta_json       BLOB,                         -- the exact meta.json to upload, fixed when hashed
    discovered_at   INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    committed_at    INTEGER
);

CREATE INDEX blocks_by_state ON blocks (state, min_time);

CREATE TABLE block_files (
    ulid        TEXT    NOT NULL REFERENCES blocks (ulid),
    rel_path    TEXT    NOT NULL,                 -- 'chunks/000001', 'index'
    size_bytes  INTEGER NOT NULL,
    sha256      TEXT    NOT NULL,                 -- lower-case hex
    state       TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'uploaded')),
    uploaded_at INTEGER,
    PRIMARY KEY (ulid, rel_path)
) WITHOUT ROWID;

CREATE TABLE transitions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    ulid       TEXT    NOT NULL REFERENCES blocks (ulid),
    from_state TEXT,                              -- NULL for the first row of a block
    to_state   TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    attempt    INTEGER NOT NULL,                  -- 1 for the first try, +1 after each failure
    bytes      INTEGER,                           -- bytes this step moved or covered
    detail     TEXT                               -- error text or what happened
);

CREATE INDEX transitions_by_block ON transitions (ulid, id);

-- The transition log is the audit trail: rows are appended, never rewritten.
CREATE TRIGGER transitions_are_append_only_update BEFORE UPDATE ON transitions
BEGIN
    SELECT RAISE(ABORT, 'transitions are append-only');
END;

CREATE TRIGGER transitions_are_append_only_delete BEFORE DELETE ON transitions
BEGIN
    SELECT RAISE(ABORT, 'transitions are append-only');
END;
