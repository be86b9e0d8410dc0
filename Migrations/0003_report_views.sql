-- Skiff ledger, schema 3: views that make the common questions one-liners for `skiff sql` and
-- back the named reports of `skiff report`. Times are Unix milliseconds; *_at_utc columns are
-- the same instants as ISO 8601 text.

-- Every committed block with its size and how long after its time range ended it was committed.
CREATE VIEW shipped_blocks AS
SELECT ulid, min_time, max_time, level, num_samples, total_bytes, attempts,
       committed_at, strftime('%Y-%m-%dT%H:%M:%SZ', committed_at / 1000, 'unixepoch') AS committed_at_utc,
       committed_at - max_time AS lag_ms
FROM blocks WHERE state = 'committed';

-- Blocks not committed (and not ignored or cleaned), with why: state, attempts, last error,
-- next attempt.
CREATE VIEW pending_blocks AS
SELECT ulid, state, resume_state, quarantined, attempts, last_error, next_attempt_at,
       total_bytes, uploaded_bytes, min_time, max_time, discovered_at
FROM blocks WHERE state NOT IN ('committed', 'ignored', 'cleaned');

-- Every failed attempt, from the transition log.
CREATE VIEW failures AS
SELECT t.id, t.ulid, t.at, strftime('%Y-%m-%dT%H:%M:%SZ', t.at / 1000, 'unixepoch') AS at_utc, t.attempt,
       t.from_state, t.detail AS error
FROM transitions t WHERE t.to_state = 'failed';

-- Blocks and bytes committed per UTC day.
CREATE VIEW shipped_per_day AS
SELECT strftime('%Y-%m-%d', committed_at / 1000, 'unixepoch') AS day, count(*) AS blocks,
       coalesce(sum(total_bytes), 0) AS bytes
FROM blocks WHERE state = 'committed' GROUP BY day ORDER BY day;
