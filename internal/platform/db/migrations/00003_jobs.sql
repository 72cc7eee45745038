-- Background jobs (platform/jobs): deadline reminders, overdue flags,
-- escalations, notifications, recurring maintenance. Every node polls this
-- table; see the package documentation for the guarantees.

-- +goose Up
-- A job is pending while done_at and failed_at are both NULL.
-- key names a job that must not be scheduled twice ("case:42:remind");
-- it is unique among pending jobs only, so that a finished job does not
-- block the next one with the same key (a recurring job's next run).
-- locked_by and locked_until are a lease, set only for handlers that work
-- outside the database (HandleExternal); the others are protected by the
-- transaction that runs them.
CREATE TABLE jobs (
    id           {{id}},
    kind         TEXT NOT NULL,
    key          TEXT,
    payload      TEXT NOT NULL DEFAULT 'null',
    run_at       {{time}} NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    locked_by    TEXT,
    locked_until {{time}},
    created_at   {{time}} NOT NULL,
    done_at      {{time}},
    failed_at    {{time}},
    last_error   TEXT NOT NULL DEFAULT ''
);
-- Partial indexes work the same on SQLite and PostgreSQL; the WHERE of a
-- query must repeat the predicate for the planner to use them.
CREATE UNIQUE INDEX jobs_pending_key ON jobs (key) WHERE done_at IS NULL AND failed_at IS NULL;
-- Claiming: the oldest due pending job first.
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE done_at IS NULL AND failed_at IS NULL;
-- Stats and the operator's list of failed jobs.
CREATE INDEX jobs_failed ON jobs (failed_at) WHERE failed_at IS NOT NULL;
-- Purging finished jobs.
CREATE INDEX jobs_done ON jobs (done_at) WHERE done_at IS NOT NULL;

-- +goose Down
DROP TABLE jobs;
