-- 按期结案率 counts only the closures that had a deadline: on time + late.
-- Closed cases without one (self-handled, or replayed history without a
-- target) were in the old denominator (closed − deferred) and pulled the
-- rate down. No release carried the counters without this column; a
-- development database's old closures count as neither on time nor late
-- (`cases.Service.Recompute` reads the right figures from the log).

-- +goose Up
ALTER TABLE case_stats ADD COLUMN closed_late BIGINT NOT NULL DEFAULT 0;
ALTER TABLE case_stats_rollup ADD COLUMN closed_late BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE case_stats_rollup DROP COLUMN closed_late;
ALTER TABLE case_stats DROP COLUMN closed_late;
