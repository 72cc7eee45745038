-- Foundation: the area spine, accounts, sessions, API tokens, the audit log.
-- Macros ({{id}}, {{time}}, {{ctext}}) are replaced per engine in migrate.go.

-- +goose Up
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Areas: district → street → community → grid. Scopes are subtrees of this
-- tree; path lists the ids from the root ("/1/5/23/") so that a subtree is
-- one index range.
CREATE TABLE areas (
    id         {{id}},
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    level      TEXT NOT NULL CHECK (level IN ('province', 'city', 'district', 'street', 'community', 'grid')),
    parent_id  BIGINT REFERENCES areas (id),
    path       {{ctext}} NOT NULL,
    created_at {{time}} NOT NULL
);
CREATE INDEX areas_parent ON areas (parent_id);
CREATE INDEX areas_path ON areas (path);

CREATE TABLE users (
    id            {{id}},
    name          TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    locale        TEXT NOT NULL DEFAULT '',
    large_text    BOOLEAN NOT NULL DEFAULT FALSE,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    {{time}} NOT NULL,
    updated_at    {{time}} NOT NULL
);

-- A grant gives a role over an area subtree; area_id NULL means everywhere.
CREATE TABLE grants (
    id         {{id}},
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    area_id    BIGINT REFERENCES areas (id),
    created_at {{time}} NOT NULL
);
CREATE INDEX grants_user ON grants (user_id);

-- Sessions are split tokens: the cookie holds id.secret, the table holds id
-- and a hash of secret, so a stolen database does not yield live sessions.
CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    secret_hash   TEXT NOT NULL,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    {{time}} NOT NULL,
    last_seen_at  {{time}} NOT NULL,
    expires_at    {{time}} NOT NULL,
    ip            TEXT NOT NULL DEFAULT '',
    user_agent    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           {{id}},
    selector     TEXT NOT NULL UNIQUE,
    secret_hash  TEXT NOT NULL,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    created_at   {{time}} NOT NULL,
    expires_at   {{time}},
    last_used_at {{time}},
    revoked_at   {{time}}
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Failed logins, for throttling guessers across nodes.
CREATE TABLE login_failures (
    id   {{id}},
    name TEXT NOT NULL,
    ip   TEXT NOT NULL,
    at   {{time}} NOT NULL
);
CREATE INDEX login_failures_name ON login_failures (name, at);
CREATE INDEX login_failures_ip ON login_failures (ip, at);

-- The audit log is append-only and hash-chained: each row's hash covers its
-- fields and the previous row's hash. Rows are spread over a few chains so
-- that concurrent PostgreSQL transactions do not all queue on one head row;
-- audit_heads holds each chain's last seq and hash, which also reveals rows
-- cut off the end.
CREATE TABLE audit_log (
    id          {{id}},
    chain       INTEGER NOT NULL,
    seq         BIGINT NOT NULL,
    at          {{time}} NOT NULL,
    actor_id    BIGINT,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL DEFAULT '',
    target_id   TEXT NOT NULL DEFAULT '',
    outcome     TEXT NOT NULL,
    ip          TEXT NOT NULL DEFAULT '',
    request_id  TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT '',
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    UNIQUE (chain, seq)
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id);

CREATE TABLE audit_heads (
    chain INTEGER PRIMARY KEY,
    seq   BIGINT NOT NULL,
    hash  TEXT NOT NULL
);
-- audit.Chains heads, each starting from the empty hash.
INSERT INTO audit_heads (chain, seq, hash) VALUES
    (0, 0, ''), (1, 0, ''), (2, 0, ''), (3, 0, ''), (4, 0, ''), (5, 0, ''), (6, 0, ''), (7, 0, '');

-- +goose Down
DROP TABLE audit_heads;
DROP TABLE audit_log;
DROP TABLE login_failures;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE grants;
DROP TABLE users;
DROP TABLE areas;
DROP TABLE settings;
