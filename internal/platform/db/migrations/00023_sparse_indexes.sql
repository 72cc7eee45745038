-- Four indexes held an entry for every report although their queries only
-- ever look for rows that have a value:
--
-- - cases_unit_state: cases by handling unit. A new report has no unit
--   until it is dispatched; the list by unit asks for unit_id = $1.
-- - cases_external: cases by the external system's id (hotline tickets,
--   replayed 311 histories). Residents' and Open311 reports have none; the
--   lookups ask for external_id <> ''.
-- - open311_requests_remote and open311_requests_client: requests pulled
--   from another server, and the id a client such as FixMyStreet gives its
--   own report; most requests have neither, and the lookups ask for
--   remote_id <> '' and client_ref <> ''.
--
-- Each entry cost SQLite's single writer one more B-tree page per commit
-- group to write into the WAL, sync and copy back at the next checkpoint
-- (docs/benchmarks.md §6, sixth round). A query uses a partial index only
-- if its WHERE implies the index's condition, hence the conditions the
-- lookups repeat.

-- +goose Up
DROP INDEX cases_unit_state;
CREATE INDEX cases_unit_state ON cases (unit_id, state) WHERE unit_id IS NOT NULL;
DROP INDEX cases_external;
CREATE INDEX cases_external ON cases (channel, external_id) WHERE external_id <> '';
DROP INDEX open311_requests_remote;
CREATE INDEX open311_requests_remote ON open311_requests (source, remote_id) WHERE remote_id <> '';
DROP INDEX open311_requests_client;
CREATE INDEX open311_requests_client ON open311_requests (key_id, client_ref) WHERE client_ref <> '';

-- +goose Down
DROP INDEX cases_unit_state;
CREATE INDEX cases_unit_state ON cases (unit_id, state);
DROP INDEX cases_external;
CREATE INDEX cases_external ON cases (channel, external_id);
DROP INDEX open311_requests_remote;
CREATE INDEX open311_requests_remote ON open311_requests (source, remote_id);
DROP INDEX open311_requests_client;
CREATE INDEX open311_requests_client ON open311_requests (key_id, client_ref);
