-- Skiff ledger, schema 2: multipart upload progress and request retries.
-- A large file goes up as an S3 multipart upload; its upload id is recorded before the first part
-- is sent and each part as the server acknowledges it, so a restart continues the same upload.

CREATE TABLE multipart_uploads (
    upload_id  TEXT    NOT NULL PRIMARY KEY,
    ulid       TEXT    NOT NULL REFERENCES blocks (ulid),
    rel_path   TEXT    NOT NULL,
    part_size  INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at   INTEGER,                           -- completed or abandoned; NULL while in progress
    completed  INTEGER CHECK (completed IN (0, 1))
);

CREATE INDEX multipart_uploads_by_file ON multipart_uploads (ulid, rel_path, ended_at);

CREATE TABLE multipart_parts (
    upload_id   TEXT    NOT NULL REFERENCES multipart_uploads (upload_id),
    part_number INTEGER NOT NULL,
    size_bytes  INTEGER NOT NULL,
    etag        TEXT    NOT NULL,
    sha256      TEXT    NOT NULL,                 -- lower-case hex of the part's bytes
    uploaded_at INTEGER NOT NULL,
    PRIMARY KEY (upload_id, part_number)
) WITHOUT ROWID;

-- Every bucket request that failed and was retried while uploading a block's files: the audit
-- trail of flaky networks and throttling. Append-only like transitions.
CREATE TABLE request_retries (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    ulid      TEXT    NOT NULL REFERENCES blocks (ulid),
    rel_path  TEXT    NOT NULL,
    operation TEXT    NOT NULL,                   -- Thanos' operation name: upload, get, ...
    attempt   INTEGER NOT NULL,                   -- the failed attempt, 1-based
    at        INTEGER NOT NULL,
    error     TEXT    NOT NULL
);

CREATE INDEX request_retries_by_block ON request_retries (ulid, id);

CREATE TRIGGER request_retries_are_append_only_update BEFORE UPDATE ON request_retries
BEGIN
    SELECT RAISE(ABORT, 'request_retries are append-only');
END;

CREATE TRIGGER request_retries_are_append_only_delete BEFORE DELETE ON request_retries
BEGIN
    SELECT RAISE(ABORT, 'request_retries are append-only');
END;
