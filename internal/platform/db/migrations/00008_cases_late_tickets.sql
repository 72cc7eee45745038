-- 按期结案率 counts only the closures that had a deadline: on time + late.
-- Closed cases without one (self-handled, or replayed history without a
-- target) were in the old denominator (closed − deferred) and pulled the
-- rate down. No release carried the counters without this column; a
-- development database's old closures count as neither on time nor late
-- (`cases.Service.Recompute` reads the right figures from the log).

-- +goose Up
ALTER TABLE case_stats ADD COLUMN closed_late BIGINT NOT NULL DEFAULT 0;
ALTER TABLE case_stats_rollup ADD COLUMN closed_late BIGINT NOT NULL DEFAULT 0;

-- A 12345 ticket becomes one case, however often its file is imported or
-- by however many nodes at once (cases.ImportHotline skips known tickets;
-- this catches the race).
CREATE UNIQUE INDEX cases_hotline_ticket ON cases (external_id) WHERE channel = '12345' AND external_id <> '';

-- +goose Down
DROP INDEX cases_hotline_ticket;
ALTER TABLE case_stats_rollup DROP COLUMN closed_late;
ALTER TABLE case_stats DROP COLUMN closed_late;
