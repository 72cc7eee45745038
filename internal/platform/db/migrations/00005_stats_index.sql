-- The dashboards' aggregate: the daily counters of case_stats added up for
-- the areas above each case, so that the figures of an area are read from
-- that area's own rows (a year of a district: 365 days, × its categories or
-- units) whatever the number of cases and grids under it. case_stats, per
-- grid × unit × category × day, holds about a row for every two cases at a
-- district's scale; adding up millions of them took seconds. Kept current
-- in the transaction of each transition, next to case_stats.
--
-- area_id is an area (0 for the cases located in no area); dim is
--   't': all cases, dim_id 0 — for the case's area and every area above it;
--   'c': by category, dim_id the category id — for the areas above the
--        case's area only (its own are its case_stats rows);
--   'u': by unit, dim_id the unit id, 0 before dispatch — likewise.

-- +goose Up
CREATE TABLE case_stats_rollup (
    area_id            BIGINT NOT NULL,
    dim                TEXT NOT NULL CHECK (dim IN ('t', 'c', 'u')),
    day                TEXT NOT NULL,
    dim_id             BIGINT NOT NULL,
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
    PRIMARY KEY (area_id, dim, day, dim_id)
);

-- The counters already kept, rolled up (the statements of
-- cases.RebuildRollup). An area's ancestors are the areas whose path starts
-- its path; an area_id that names no area (0) is its own and only one.
INSERT INTO case_stats_rollup (area_id, dim, day, dim_id, reported, accepted, rejected, dispatched, closed, closed_on_time,
    closed_deferred, feedbacks, reworked, extended, callbacks, contacted, solved, satisfied, basically_satisfied, unsatisfied)
SELECT x.ancestor, 't', t.day, 0, SUM(t.reported), SUM(t.accepted), SUM(t.rejected), SUM(t.dispatched), SUM(t.closed),
    SUM(t.closed_on_time), SUM(t.closed_deferred), SUM(t.feedbacks), SUM(t.reworked), SUM(t.extended), SUM(t.callbacks),
    SUM(t.contacted), SUM(t.solved), SUM(t.satisfied), SUM(t.basically_satisfied), SUM(t.unsatisfied)
FROM case_stats t JOIN (
    SELECT g.id AS area_id, a.id AS ancestor FROM areas g JOIN areas a ON substr(g.path, 1, length(a.path)) = a.path
    UNION ALL
    SELECT DISTINCT s.area_id, s.area_id FROM case_stats s WHERE s.area_id NOT IN (SELECT id FROM areas)
) x ON x.area_id = t.area_id
GROUP BY x.ancestor, t.day;

INSERT INTO case_stats_rollup (area_id, dim, day, dim_id, reported, accepted, rejected, dispatched, closed, closed_on_time,
    closed_deferred, feedbacks, reworked, extended, callbacks, contacted, solved, satisfied, basically_satisfied, unsatisfied)
SELECT x.ancestor, 'c', t.day, t.category_id, SUM(t.reported), SUM(t.accepted), SUM(t.rejected), SUM(t.dispatched), SUM(t.closed),
    SUM(t.closed_on_time), SUM(t.closed_deferred), SUM(t.feedbacks), SUM(t.reworked), SUM(t.extended), SUM(t.callbacks),
    SUM(t.contacted), SUM(t.solved), SUM(t.satisfied), SUM(t.basically_satisfied), SUM(t.unsatisfied)
FROM case_stats t JOIN (
    SELECT g.id AS area_id, a.id AS ancestor FROM areas g JOIN areas a ON substr(g.path, 1, length(a.path)) = a.path AND a.id <> g.id
) x ON x.area_id = t.area_id
GROUP BY x.ancestor, t.day, t.category_id;

INSERT INTO case_stats_rollup (area_id, dim, day, dim_id, reported, accepted, rejected, dispatched, closed, closed_on_time,
    closed_deferred, feedbacks, reworked, extended, callbacks, contacted, solved, satisfied, basically_satisfied, unsatisfied)
SELECT x.ancestor, 'u', t.day, t.unit_id, SUM(t.reported), SUM(t.accepted), SUM(t.rejected), SUM(t.dispatched), SUM(t.closed),
    SUM(t.closed_on_time), SUM(t.closed_deferred), SUM(t.feedbacks), SUM(t.reworked), SUM(t.extended), SUM(t.callbacks),
    SUM(t.contacted), SUM(t.solved), SUM(t.satisfied), SUM(t.basically_satisfied), SUM(t.unsatisfied)
FROM case_stats t JOIN (
    SELECT g.id AS area_id, a.id AS ancestor FROM areas g JOIN areas a ON substr(g.path, 1, length(a.path)) = a.path AND a.id <> g.id
) x ON x.area_id = t.area_id
GROUP BY x.ancestor, t.day, t.unit_id;

-- +goose Down
DROP TABLE case_stats_rollup;
