-- Grids: kinds, versioned boundaries, grid workers, and a change counter
-- that tells every node when to rebuild its in-memory lookup index.

-- +goose Up
-- kind is set for grids: 'comprehensive' (综合网格) or 'dedicated' (专属网格);
-- purpose says what a dedicated grid serves (school, hospital, park, company, …).
ALTER TABLE areas ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE areas ADD COLUMN purpose TEXT NOT NULL DEFAULT '';

-- Boundaries are never overwritten: a re-import closes the current version
-- (valid_to) and adds the next, so that what was filed in a grid last year
-- still shows the grid as it was. Polygons are GeoJSON geometry text in
-- WGS84 with their bounding box.
CREATE TABLE area_boundaries (
    id         {{id}},
    area_id    BIGINT NOT NULL REFERENCES areas (id),
    version    INTEGER NOT NULL,
    geometry   TEXT NOT NULL,
    min_lon    DOUBLE PRECISION NOT NULL,
    min_lat    DOUBLE PRECISION NOT NULL,
    max_lon    DOUBLE PRECISION NOT NULL,
    max_lat    DOUBLE PRECISION NOT NULL,
    valid_from {{time}} NOT NULL,
    valid_to   {{time}},
    source     TEXT NOT NULL DEFAULT '',
    UNIQUE (area_id, version)
);
CREATE INDEX area_boundaries_current ON area_boundaries (valid_to, area_id);

-- Who works a grid: one leader (网格长) and members. Each row comes with a
-- grid_worker grant on the grid, which is what scopes the worker.
CREATE TABLE grid_members (
    area_id    BIGINT NOT NULL REFERENCES areas (id),
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    duty       TEXT NOT NULL CHECK (duty IN ('leader', 'member')),
    created_at {{time}} NOT NULL,
    PRIMARY KEY (area_id, user_id)
);
CREATE INDEX grid_members_user ON grid_members (user_id);

-- An uploaded GeoJSON file between its preview and the administrator's
-- confirmation (kept in the database: the confirmation may reach another
-- node). Rows older than a day are purged.
CREATE TABLE area_import_staging (
    id         TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    params     TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at {{time}} NOT NULL
);

-- Counters that nodes poll to learn that shared in-memory state changed.
CREATE TABLE change_counters (
    name    TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO change_counters (name, version) VALUES ('boundaries', 0);

-- +goose Down
DROP TABLE change_counters;
DROP TABLE area_import_staging;
DROP TABLE grid_members;
DROP TABLE area_boundaries;
ALTER TABLE areas DROP COLUMN purpose;
ALTER TABLE areas DROP COLUMN kind;
