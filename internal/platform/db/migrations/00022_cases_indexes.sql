-- Two indexes of cases cost the intake more than they gave.
--
-- 1. cases_phone (00004, partial since 00012) indexed the reporter's phone
--    blind index for a "has this caller reported before?" search that no
--    query makes. The blind index is an HMAC, so every report with a phone
--    put its entry at a random place in the index: one more B-tree page
--    for the single writer to journal, sync and checkpoint per report, for
--    nothing. The column stays, filled as before; a caller-history search
--    would add its index back (on PostgreSQL, CREATE INDEX CONCURRENTLY).
--
-- 2. cases_near (00021) is partial, on the open cases. Its condition was
--    state NOT IN (...), which SQLite evaluates with a temporary table:
--    one was built for every row inserted or updated, and for every arm of
--    the duplicate search. The same condition as three comparisons costs
--    nothing of the kind. A query uses a partial index only if it repeats
--    the index's condition, so the duplicate search (cases/store.go,
--    stillOpen) says it the same way.

-- +goose Up
DROP INDEX cases_phone;
DROP INDEX cases_near;
CREATE INDEX cases_near ON cases (category_id, near_cell, created_at, lat, lon)
    WHERE state <> 'rejected' AND state <> 'closed' AND state <> 'merged';

-- +goose Down
DROP INDEX cases_near;
CREATE INDEX cases_near ON cases (category_id, near_cell, created_at, lat, lon) WHERE state NOT IN ('rejected', 'closed', 'merged');
CREATE INDEX cases_phone ON cases (reporter_phone_idx) WHERE reporter_phone_idx <> '';
