-- Open311 GeoReport v2 (issue #6): the extra questions of a case category
-- (service attributes) and a case's answers to them, the keys Open311
-- clients post with, and what the Open311 channel keeps of each request it
-- filed (its token for batch clients, address id, device, account, media).

-- +goose Up
-- The questions of a category, in order. A list type's options are a JSON
-- array of {"key", "name"}. variable = FALSE is an informational line with
-- no answer.
CREATE TABLE case_category_attributes (
    id                   {{id}},
    category_id          BIGINT NOT NULL REFERENCES case_categories (id),
    code                 TEXT NOT NULL,
    datatype             TEXT NOT NULL CHECK (datatype IN ('string', 'number', 'datetime', 'text', 'singlevaluelist', 'multivaluelist')),
    required             BOOLEAN NOT NULL DEFAULT FALSE,
    variable             BOOLEAN NOT NULL DEFAULT TRUE,
    sort                 INTEGER NOT NULL,
    description          TEXT NOT NULL,
    datatype_description TEXT NOT NULL DEFAULT '',
    list_values          TEXT NOT NULL DEFAULT '[]',
    UNIQUE (category_id, code)
);

-- A case's answers; a multi-valued answer is several rows (seq 1, 2, …).
CREATE TABLE case_answers (
    case_id BIGINT NOT NULL REFERENCES cases (id),
    code    TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (case_id, code, seq)
);

-- Keys of Open311 clients: only a hash of the secret is kept. rate is the
-- requests per second a key may post (0: no limit); batch keys are answered
-- with a token instead of the request id.
CREATE TABLE open311_keys (
    id           {{id}},
    key_hash     TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    rate         DOUBLE PRECISION NOT NULL DEFAULT 0,
    batch        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   {{time}} NOT NULL,
    last_used_at {{time}},
    revoked_at   {{time}}
);

-- What the Open311 channel keeps of each request it filed.
CREATE TABLE open311_requests (
    case_id    BIGINT PRIMARY KEY REFERENCES cases (id),
    number     TEXT NOT NULL,
    token      TEXT NOT NULL UNIQUE,
    key_id     BIGINT REFERENCES open311_keys (id),
    address_id TEXT NOT NULL DEFAULT '',
    zipcode    TEXT NOT NULL DEFAULT '',
    device_id  TEXT NOT NULL DEFAULT '',
    account_id TEXT NOT NULL DEFAULT '',
    media_urls TEXT NOT NULL DEFAULT '',
    -- a request pulled from another GeoReport v2 server (linli open311
    -- pull): that server's endpoint and its id of the request
    source     TEXT NOT NULL DEFAULT '',
    remote_id  TEXT NOT NULL DEFAULT '',
    -- the client's own id of the report (FixMyStreet's
    -- attribute[fixmystreet_id]): a client resending the same report gets
    -- the first answer again instead of a second case
    client_ref TEXT NOT NULL DEFAULT ''
);
CREATE INDEX open311_requests_remote ON open311_requests (source, remote_id);
CREATE INDEX open311_requests_client ON open311_requests (key_id, client_ref);

-- Updates posted by clients (servicerequestupdates), so that a client's
-- retry of the same update_id is answered without a second note.
CREATE TABLE open311_posted_updates (
    key_id    BIGINT NOT NULL REFERENCES open311_keys (id),
    update_id TEXT NOT NULL,
    event_id  BIGINT NOT NULL,
    PRIMARY KEY (key_id, update_id)
);

-- +goose Down
DROP TABLE open311_posted_updates;
DROP TABLE open311_requests;
DROP TABLE open311_keys;
DROP TABLE case_answers;
DROP TABLE case_category_attributes;
