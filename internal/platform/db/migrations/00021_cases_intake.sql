-- Two changes that take work off the intake path.
--
-- 1. case_stats_pending: each write transaction that moves cases leaves its
--    additions to the daily counters here, as one row, instead of updating
--    case_stats and a dozen rows of case_stats_rollup per report (on SQLite
--    the single writer spent a quarter of each report there; on PostgreSQL
--    every report of the day waited for the same district rows). The rows
--    are applied in bulk, in transactions that delete them, every second
--    and before anything reads the counters (cases/stats.go), so the
--    figures read are always those of every committed move.
--    deltas is text: one line per case_stats row, "day area unit category"
--    and the counters in statCols order, separated by spaces.
--
-- 2. The duplicate search (same category, within 100 m, recent, open) read
--    every case of the category ever reported in a latitude band across the
--    whole city, each from the table to check its time and state. Now each
--    case has near_cell, the 0.001° square its point lies in, numbered row
--    by row (cases/store.go, nearCell), and cases_near holds only the open
--    cases, by category, cell and time, with their points: the search
--    seeks the few cells around the point and reads nothing but the index
--    (SQLite's plan names the table, for the state, but the condition on
--    state is the index's own and never reads the row). Closing a case
--    removes its entry. Only open cases
--    need their cell (closed ones are never offered), so only they are
--    filled in here.

-- +goose Up
CREATE TABLE case_stats_pending (
    id     {{id}},
    deltas TEXT NOT NULL
);

ALTER TABLE cases ADD COLUMN near_cell BIGINT;
UPDATE cases SET near_cell = CAST(floor((lat + 90) / 0.001) AS BIGINT) * 360000 + CAST(floor((lon + 180) / 0.001) AS BIGINT)
    WHERE lat IS NOT NULL AND lon IS NOT NULL AND state NOT IN ('rejected', 'closed', 'merged');
DROP INDEX cases_near;
CREATE INDEX cases_near ON cases (category_id, near_cell, created_at, lat, lon) WHERE state NOT IN ('rejected', 'closed', 'merged');

-- +goose Down
-- Apply what is pending first: any reading of the figures does.
DROP INDEX cases_near;
CREATE INDEX cases_near ON cases (category_id, lat, lon);
ALTER TABLE cases DROP COLUMN near_cell;
DROP TABLE case_stats_pending;
