-- The one-stop service desk (一站式服务, issue #7): the service catalog and
-- applications with their materials, facilities and their bookings,
-- providers matched to residents' needs.
--
-- Every object carries the area it belongs to (area_id) and that area's
-- path (area_path, copied from areas where it never changes), so list
-- queries filter by the caller's scope with one index range.
--
-- No slot is ever double-booked, however many nodes run: a booking takes a
-- seat of its slot with one conditional UPDATE on service_slots (taken +
-- n <= seats, enforced again by a CHECK), so the database, not a process,
-- decides who got the last seat. A day of a facility is one row of
-- service_facility_days that bookings and blocks both update, which orders
-- a booking and a block of the same day on PostgreSQL.

-- +goose Up
-- 服务事项: what a community's desk handles. materials is a JSON array of
-- {"code", "name", "required"}; min_age (0: none) is the part of the
-- eligibility the desk can check itself, the rest is text for people.
CREATE TABLE service_items (
    id          {{id}},
    area_id     BIGINT NOT NULL REFERENCES areas (id),
    area_path   {{ctext}} NOT NULL,
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    eligibility TEXT NOT NULL DEFAULT '',
    min_age     INTEGER NOT NULL DEFAULT 0,
    materials   TEXT NOT NULL DEFAULT '[]',
    unit        TEXT NOT NULL,
    limit_days  INTEGER NOT NULL CHECK (limit_days >= 0),
    online      BOOLEAN NOT NULL DEFAULT FALSE,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  {{time}} NOT NULL,
    updated_at  {{time}} NOT NULL,
    UNIQUE (area_id, code)
);
CREATE INDEX service_items_path ON service_items (area_path, code);

-- 申请: one application for an item. The applicant is a resident of the
-- register (resident_id) or, when their account is not linked, a name and
-- a sealed phone number. proxy_user_id is the staff member who applied on
-- their behalf (代办). missing is a JSON array of the material codes the
-- desk asked for, with missing_note saying exactly what is wrong.
CREATE TABLE service_applications (
    id             {{id}},
    number         TEXT NOT NULL UNIQUE,
    item_id        BIGINT NOT NULL REFERENCES service_items (id),
    area_id        BIGINT NOT NULL REFERENCES areas (id),
    area_path      {{ctext}} NOT NULL,
    resident_id    BIGINT REFERENCES registry_residents (id) ON DELETE SET NULL,
    user_id        BIGINT REFERENCES users (id) ON DELETE SET NULL,
    proxy_user_id  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    applicant_name TEXT NOT NULL,
    phone_enc      TEXT NOT NULL DEFAULT '',
    note           TEXT NOT NULL DEFAULT '',
    state          TEXT NOT NULL CHECK (state IN ('submitted', 'missing', 'forwarded', 'approved', 'refused')),
    missing        TEXT NOT NULL DEFAULT '[]',
    missing_note   TEXT NOT NULL DEFAULT '',
    reason         TEXT NOT NULL DEFAULT '',
    department     TEXT NOT NULL DEFAULT '',
    due_at         {{time}} NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1,
    created_at     {{time}} NOT NULL,
    updated_at     {{time}} NOT NULL
);
CREATE INDEX service_applications_path ON service_applications (area_path, id);
CREATE INDEX service_applications_user ON service_applications (user_id, id);

-- The files handed in with an application, one row per file.
CREATE TABLE service_application_files (
    id             {{id}},
    application_id BIGINT NOT NULL REFERENCES service_applications (id) ON DELETE CASCADE,
    material       TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    size           INTEGER NOT NULL,
    data           {{blob}} NOT NULL,
    created_at     {{time}} NOT NULL
);
CREATE INDEX service_application_files_app ON service_application_files (application_id, material);

-- Every step of an application, immutable: what the applicant follows.
CREATE TABLE service_application_log (
    id             {{id}},
    application_id BIGINT NOT NULL REFERENCES service_applications (id) ON DELETE CASCADE,
    at             {{time}} NOT NULL,
    actor          TEXT NOT NULL,
    action         TEXT NOT NULL,
    from_state     TEXT NOT NULL DEFAULT '',
    to_state       TEXT NOT NULL,
    detail         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX service_application_log_app ON service_application_log (application_id, id);

-- 设施: a community's activity room, day-care centre, canteen, clinic or
-- sports ground. hours is a JSON array of 7 arrays (Sunday first) of
-- "HH:MM-HH:MM" periods, cut into slots of slot_minutes. A shared
-- facility takes bookings for places up to capacity per slot (a canteen
-- sitting); otherwise one booking takes the whole slot (a room).
CREATE TABLE service_facilities (
    id             {{id}},
    area_id        BIGINT NOT NULL REFERENCES areas (id),
    area_path      {{ctext}} NOT NULL,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('activity_room', 'day_care', 'canteen', 'clinic', 'sports', 'other')),
    capacity       INTEGER NOT NULL CHECK (capacity > 0),
    shared         BOOLEAN NOT NULL DEFAULT FALSE,
    slot_minutes   INTEGER NOT NULL CHECK (slot_minutes BETWEEN 15 AND 480),
    hours          TEXT NOT NULL,
    rules          TEXT NOT NULL DEFAULT '',
    needs_approval BOOLEAN NOT NULL DEFAULT FALSE,
    lon            DOUBLE PRECISION,
    lat            DOUBLE PRECISION,
    active         BOOLEAN NOT NULL DEFAULT TRUE,
    created_at     {{time}} NOT NULL,
    updated_at     {{time}} NOT NULL
);
CREATE INDEX service_facilities_path ON service_facilities (area_path, id);

-- One row per facility and day that has bookings or is blocked.
CREATE TABLE service_facility_days (
    facility_id BIGINT NOT NULL REFERENCES service_facilities (id),
    day         TEXT NOT NULL,
    blocked     BOOLEAN NOT NULL DEFAULT FALSE,
    reason      TEXT NOT NULL DEFAULT '',
    bookings    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (facility_id, day)
);

-- The seats of a slot: the only arbiter of who gets it.
CREATE TABLE service_slots (
    facility_id BIGINT NOT NULL REFERENCES service_facilities (id),
    slot_start  {{time}} NOT NULL,
    seats       INTEGER NOT NULL CHECK (seats > 0),
    taken       INTEGER NOT NULL DEFAULT 0 CHECK (taken >= 0 AND taken <= seats),
    PRIMARY KEY (facility_id, slot_start)
);

-- 预约: one booking of one slot. series_id ties the weekly bookings of a
-- group together. places is how many seats it takes.
CREATE TABLE service_bookings (
    id          {{id}},
    facility_id BIGINT NOT NULL REFERENCES service_facilities (id),
    area_path   {{ctext}} NOT NULL,
    slot_start  {{time}} NOT NULL,
    slot_end    {{time}} NOT NULL,
    day         TEXT NOT NULL,
    places      INTEGER NOT NULL CHECK (places > 0),
    user_id     BIGINT REFERENCES users (id) ON DELETE SET NULL,
    booker      TEXT NOT NULL,
    group_name  TEXT NOT NULL DEFAULT '',
    purpose     TEXT NOT NULL DEFAULT '',
    series_id   TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL CHECK (state IN ('pending', 'confirmed', 'refused', 'cancelled', 'attended', 'no_show')),
    reason      TEXT NOT NULL DEFAULT '',
    created_at  {{time}} NOT NULL,
    updated_at  {{time}} NOT NULL
);
CREATE INDEX service_bookings_facility ON service_bookings (facility_id, slot_start);
CREATE INDEX service_bookings_path ON service_bookings (area_path, slot_start);
CREATE INDEX service_bookings_user ON service_bookings (user_id, slot_start);

-- 服务供给方: a social organisation, business, individual or the
-- community itself. services is a comma-separated list of service types.
-- The service area is a radius around (lon, lat) or a GeoJSON polygon,
-- with its bounding box for a quick first cut.
CREATE TABLE service_providers (
    id         {{id}},
    area_id    BIGINT NOT NULL REFERENCES areas (id),
    area_path  {{ctext}} NOT NULL,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('social_org', 'business', 'individual', 'community')),
    services   TEXT NOT NULL,
    lon        DOUBLE PRECISION,
    lat        DOUBLE PRECISION,
    radius_m   INTEGER NOT NULL DEFAULT 0,
    polygon    TEXT NOT NULL DEFAULT '',
    min_lon    DOUBLE PRECISION NOT NULL,
    min_lat    DOUBLE PRECISION NOT NULL,
    max_lon    DOUBLE PRECISION NOT NULL,
    max_lat    DOUBLE PRECISION NOT NULL,
    capacity   INTEGER NOT NULL CHECK (capacity > 0),
    -- matches in progress, taken like a slot's seats (never above capacity)
    load       INTEGER NOT NULL DEFAULT 0 CHECK (load >= 0 AND load <= capacity),
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at {{time}} NOT NULL,
    updated_at {{time}} NOT NULL
);
CREATE INDEX service_providers_path ON service_providers (area_path, id);

-- 需求: a resident's need, recorded by themselves or a grid worker, in
-- the grid where it is.
CREATE TABLE service_needs (
    id          {{id}},
    area_id     BIGINT NOT NULL REFERENCES areas (id),
    area_path   {{ctext}} NOT NULL,
    resident_id BIGINT REFERENCES registry_residents (id) ON DELETE SET NULL,
    person      TEXT NOT NULL,
    service     TEXT NOT NULL,
    lon         DOUBLE PRECISION NOT NULL,
    lat         DOUBLE PRECISION NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL CHECK (state IN ('open', 'matched', 'met', 'closed')),
    recorded_by TEXT NOT NULL,
    created_at  {{time}} NOT NULL,
    updated_at  {{time}} NOT NULL
);
CREATE INDEX service_needs_path ON service_needs (area_path, state);

-- 匹配: a need given to a provider, and how it ended.
CREATE TABLE service_matches (
    id          {{id}},
    need_id     BIGINT NOT NULL REFERENCES service_needs (id),
    provider_id BIGINT NOT NULL REFERENCES service_providers (id),
    distance_m  INTEGER NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('active', 'done', 'failed')),
    outcome     TEXT NOT NULL DEFAULT '',
    matched_by  TEXT NOT NULL,
    created_at  {{time}} NOT NULL,
    closed_at   {{time}}
);
CREATE INDEX service_matches_need ON service_matches (need_id);
CREATE INDEX service_matches_provider ON service_matches (provider_id, state);

-- Residents and older residents per grid, as the gap report last counted
-- them from the register, and when (one row per street in
-- service_population_runs). The report reuses a count for a few minutes,
-- so that its requests do not each step over a million index entries;
-- every node sees the same snapshot.
CREATE TABLE service_population (
    grid_path   {{ctext}} PRIMARY KEY,
    residents   INTEGER NOT NULL,
    older       INTEGER NOT NULL
);
CREATE TABLE service_population_runs (
    street_path {{ctext}} PRIMARY KEY,
    born_by     TEXT NOT NULL,
    counted_at  {{time}} NOT NULL
);

-- The gap report counts residents and older residents per grid from this
-- index alone (an index-only GROUP BY over a street's path range), never
-- reading the residents' rows.
CREATE INDEX registry_residents_population ON registry_residents (area_path, birth_date);

-- +goose Down
DROP INDEX registry_residents_population;
DROP TABLE service_population_runs;
DROP TABLE service_population;
DROP TABLE service_matches;
DROP TABLE service_needs;
DROP TABLE service_providers;
DROP TABLE service_bookings;
DROP TABLE service_slots;
DROP TABLE service_facility_days;
DROP TABLE service_facilities;
DROP TABLE service_application_log;
DROP TABLE service_application_files;
DROP TABLE service_applications;
DROP TABLE service_items;
