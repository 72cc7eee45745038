-- Cases (诉求/事件): categories, handling units, the cases themselves, their
-- immutable transition log, files, the aggregates behind the KPIs, and the
-- working-time calendars.

-- +goose Up
-- A two-level tree (大类/小类). Leaves carry the rules of their cases.
CREATE TABLE case_categories (
    id               {{id}},
    code             TEXT NOT NULL UNIQUE,
    parent_id        BIGINT REFERENCES case_categories (id),
    kind             TEXT NOT NULL CHECK (kind IN ('event', 'component', 'community')),
    name_zh          TEXT NOT NULL,
    name_en          TEXT NOT NULL,
    filing_standard  TEXT NOT NULL DEFAULT '',
    closing_standard TEXT NOT NULL DEFAULT '',
    time_limit       TEXT NOT NULL DEFAULT '',
    urgency          TEXT NOT NULL DEFAULT 'normal' CHECK (urgency IN ('normal', 'urgent', 'critical')),
    default_unit     TEXT NOT NULL DEFAULT '',
    public           BOOLEAN NOT NULL DEFAULT TRUE,
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    sort             INTEGER NOT NULL DEFAULT 0
);

-- Handling units (处置单位): a department, a street office, a community. A
-- case is dispatched to a unit; its members handle it.
CREATE TABLE units (
    id        {{id}},
    code      TEXT NOT NULL UNIQUE,
    name      TEXT NOT NULL,
    area_id   BIGINT NOT NULL REFERENCES areas (id),
    active    BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE TABLE unit_members (
    unit_id BIGINT NOT NULL REFERENCES units (id),
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (unit_id, user_id)
);
CREATE INDEX unit_members_user ON unit_members (user_id);

-- One row per case, its current state; the history is case_events.
-- area_id is the grid the case was located in (or the area staff routed it
-- to); it is what scopes who sees the case. Personal data is encrypted
-- (*_enc) with a blind index for exact search (*_idx).
CREATE TABLE cases (
    id                  {{id}},
    tracking_hash       TEXT NOT NULL UNIQUE,
    channel             TEXT NOT NULL,
    external_id         TEXT NOT NULL DEFAULT '',
    category_id         BIGINT REFERENCES case_categories (id),
    description         TEXT NOT NULL,
    address             TEXT NOT NULL DEFAULT '',
    lon                 DOUBLE PRECISION,
    lat                 DOUBLE PRECISION,
    area_id             BIGINT REFERENCES areas (id),
    needs_routing       BOOLEAN NOT NULL DEFAULT FALSE,
    reporter_user_id    BIGINT,
    reporter_name_enc   TEXT NOT NULL DEFAULT '',
    reporter_phone_enc  TEXT NOT NULL DEFAULT '',
    reporter_phone_idx  TEXT NOT NULL DEFAULT '',
    reporter_email_enc  TEXT NOT NULL DEFAULT '',
    state               TEXT NOT NULL,
    version             INTEGER NOT NULL DEFAULT 1,
    urgency             TEXT NOT NULL DEFAULT 'normal',
    unit_id             BIGINT REFERENCES units (id),
    first_unit_id       BIGINT REFERENCES units (id),
    dispatched_at       {{time}},
    due_at              {{time}},
    warn_at             {{time}},
    received_at         {{time}},
    deferred            BOOLEAN NOT NULL DEFAULT FALSE,
    paused_at           {{time}},
    extension_asked     TEXT NOT NULL DEFAULT '',
    extensions          INTEGER NOT NULL DEFAULT 0,
    reworks             INTEGER NOT NULL DEFAULT 0,
    warned              BOOLEAN NOT NULL DEFAULT FALSE,
    overdue             BOOLEAN NOT NULL DEFAULT FALSE,
    escalations         INTEGER NOT NULL DEFAULT 0,
    closed_at           {{time}},
    on_time             BOOLEAN,
    merged_into         BIGINT REFERENCES cases (id),
    callback_contacted  BOOLEAN,
    callback_solved     BOOLEAN,
    satisfaction        TEXT NOT NULL DEFAULT '',
    rated_at            {{time}},
    created_at          {{time}} NOT NULL,
    updated_at          {{time}} NOT NULL
);
CREATE INDEX cases_area_state ON cases (area_id, state);
CREATE INDEX cases_unit_state ON cases (unit_id, state);
CREATE INDEX cases_created ON cases (created_at);
CREATE INDEX cases_phone ON cases (reporter_phone_idx);
CREATE INDEX cases_near ON cases (category_id, lat, lon);
CREATE INDEX cases_external ON cases (channel, external_id);

-- Every transition, never updated or deleted: who, when, what, and the
-- note and data that came with it. The case page's timeline, and the
-- source from which every figure can be recomputed.
CREATE TABLE case_events (
    id         {{id}},
    case_id    BIGINT NOT NULL REFERENCES cases (id),
    at         {{time}} NOT NULL,
    actor_id   BIGINT,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL,
    note       TEXT NOT NULL DEFAULT '',
    data       TEXT NOT NULL DEFAULT '',
    -- where the case stood after the move: the keys of its counters
    area_id     BIGINT NOT NULL DEFAULT 0,
    unit_id     BIGINT NOT NULL DEFAULT 0,
    category_id BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX case_events_case ON case_events (case_id, id);
CREATE INDEX case_events_at ON case_events (at);

-- Photos and documents of a case, stored in the database so that every node
-- sees them.
CREATE TABLE case_files (
    id           {{id}},
    case_id      BIGINT NOT NULL REFERENCES cases (id),
    event_id     BIGINT REFERENCES case_events (id),
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    data         {{blob}} NOT NULL,
    created_at   {{time}} NOT NULL
);
CREATE INDEX case_files_case ON case_files (case_id);

-- Daily counters per area (the case's grid), unit and category, kept
-- current in the transaction of each transition, so that dashboards over
-- millions of cases add up a few thousand rows instead of scanning history.
-- day is the China-time date 'YYYY-MM-DD'; unit_id and category_id are 0
-- when none.
CREATE TABLE case_stats (
    day                TEXT NOT NULL,
    area_id            BIGINT NOT NULL,
    unit_id            BIGINT NOT NULL,
    category_id        BIGINT NOT NULL,
    reported           BIGINT NOT NULL DEFAULT 0,
    accepted           BIGINT NOT NULL DEFAULT 0,
    rejected           BIGINT NOT NULL DEFAULT 0,
    dispatched         BIGINT NOT NULL DEFAULT 0,
    closed             BIGINT NOT NULL DEFAULT 0,
    closed_on_time     BIGINT NOT NULL DEFAULT 0,
    closed_deferred    BIGINT NOT NULL DEFAULT 0,
    feedbacks          BIGINT NOT NULL DEFAULT 0,
    reworked           BIGINT NOT NULL DEFAULT 0,
    extended           BIGINT NOT NULL DEFAULT 0,
    callbacks          BIGINT NOT NULL DEFAULT 0,
    contacted          BIGINT NOT NULL DEFAULT 0,
    solved             BIGINT NOT NULL DEFAULT 0,
    satisfied          BIGINT NOT NULL DEFAULT 0,
    basically_satisfied BIGINT NOT NULL DEFAULT 0,
    unsatisfied        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, area_id, unit_id, category_id)
);
CREATE INDEX case_stats_area ON case_stats (area_id, day);

-- Working-time calendars, one per year, as platform/workcal's JSON.
CREATE TABLE work_calendars (
    year       INTEGER PRIMARY KEY,
    config     TEXT NOT NULL,
    updated_at {{time}} NOT NULL
);

-- +goose Down
DROP TABLE work_calendars;
DROP TABLE case_stats;
DROP TABLE case_files;
DROP TABLE case_events;
DROP TABLE cases;
DROP TABLE unit_members;
DROP TABLE units;
DROP TABLE case_categories;
