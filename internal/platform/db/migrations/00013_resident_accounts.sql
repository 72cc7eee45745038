-- A resident's login tied to their entry in the register (居民账号), so
-- that the modules that must know who a logged-in resident is (one vote per
-- household, a volunteer's identity) read it from one place. One account
-- per resident and one resident per account.

-- +goose Up
CREATE TABLE registry_resident_users (
    user_id     BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    resident_id BIGINT NOT NULL UNIQUE REFERENCES registry_residents (id) ON DELETE CASCADE,
    linked_at   {{time}} NOT NULL
);

-- +goose Down
DROP TABLE registry_resident_users;
