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
-- shard splits a row into parts that add up to it: on PostgreSQL each
-- transition adds to the shard of its case's area (the area id mod 8), so
-- that transactions in different grids do not queue for the district's
-- row of the day. Readers add the shards up.

-- +goose Up
CREATE TABLE case_stats_rollup (
    area_id            BIGINT NOT NULL,
    dim                TEXT NOT NULL CHECK (dim IN ('t', 'c', 'u')),
    day                TEXT NOT NULL,
    dim_id             BIGINT NOT NULL,
    shard              INTEGER NOT NULL DEFAULT 0,
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
    PRIMARY KEY (area_id, dim, day, dim_id, shard)
);

-- The counters already kept, rolled up into shard 0 (the statements of
-- cases.RebuildRollup on SQLite): case_stats summed by area and day first, then into
-- the areas above. An area's ancestors are the areas whose path starts its
-- path (DISTINCT makes their pairs once: SQLite would otherwise scan
-- case_stats once per area). An area_id that names no area (0) is its own
-- and only one.
INSERT INTO case_stats_rollup (area_id, dim, day, dim_id, reported, accepted, rejected, dispatched, closed, closed_on_time,
    closed_deferred, feedbacks, reworked, extended, callbacks, contacted, solved, satisfied, basically_satisfied, unsatisfied)
SELECT x.ancestor, 't', s.day, 0,
    SUM(s.reported), SUM(s.accepted), SUM(s.rejected), SUM(s.dispatched), SUM(s.closed), SUM(s.closed_on_time),
    SUM(s.closed_deferred), SUM(s.feedbacks), SUM(s.reworked), SUM(s.extended), SUM(s.callbacks), SUM(s.contacted),
    SUM(s.solved), SUM(s.satisfied), SUM(s.basically_satisfied), SUM(s.unsatisfied)
FROM (SELECT t.area_id, t.day,
    SUM(t.reported) AS reported, SUM(t.accepted) AS accepted, SUM(t.rejected) AS rejected,
    SUM(t.dispatched) AS dispatched, SUM(t.closed) AS closed, SUM(t.closed_on_time) AS closed_on_time,
    SUM(t.closed_deferred) AS closed_deferred, SUM(t.feedbacks) AS feedbacks, SUM(t.reworked) AS reworked,
    SUM(t.extended) AS extended, SUM(t.callbacks) AS callbacks, SUM(t.contacted) AS contacted,
    SUM(t.solved) AS solved, SUM(t.satisfied) AS satisfied, SUM(t.basically_satisfied) AS basically_satisfied,
    SUM(t.unsatisfied) AS unsatisfied
    FROM case_stats t GROUP BY t.day, t.area_id) s
JOIN (
    SELECT DISTINCT g.id AS area_id, a.id AS ancestor FROM areas g JOIN areas a ON substr(g.path, 1, length(a.path)) = a.path
) x ON x.area_id = s.area_id
GROUP BY x.ancestor, s.day;

INSERT INTO case_stats_rollup (area_id, dim, day, dim_id, reported, accepted, rejected, dispatched, closed, closed_on_time,
    closed_deferred, feedbacks, reworked, extended, callbacks, contacted, solved, satisfied, basically_satisfied, unsatisfied)
SELECT s.area_id, 't', s.day, 0,
    SUM(s.reported), SUM(s.accepted), SUM(s.rejected), SUM(s.dispatched), SUM(s.closed), SUM(s.closed_on_time),
    SUM(s.closed_deferred), SUM(s.feedbacks), SUM(s.reworked), SUM(s.extended), SUM(s.callbacks), SUM(s.contacted),
    SUM(s.solved), SUM(s.satisfied), SUM(s.basically_satisfied), SUM(s.unsatisfied)
FROM case_stats s WHERE s.area_id NOT IN (SELECT id FROM areas)
GROUP BY s.area_id, s.day;

INSERT INTO case_stats_rollup (area_id, dim, day, dim_id, reported, accepted, rejected, dispatched, closed, closed_on_time,
    closed_deferred, feedbacks, reworked, extended, callbacks, contacted, solved, satisfied, basically_satisfied, unsatisfied)
SELECT x.ancestor, 'c', s.day, s.k,
    SUM(s.reported), SUM(s.accepted), SUM(s.rejected), SUM(s.dispatched), SUM(s.closed), SUM(s.closed_on_time),
    SUM(s.closed_deferred), SUM(s.feedbacks), SUM(s.reworked), SUM(s.extended), SUM(s.callbacks), SUM(s.contacted),
    SUM(s.solved), SUM(s.satisfied), SUM(s.basically_satisfied), SUM(s.unsatisfied)
FROM (SELECT t.area_id, t.day, t.category_id AS k,
    SUM(t.reported) AS reported, SUM(t.accepted) AS accepted, SUM(t.rejected) AS rejected,
    SUM(t.dispatched) AS dispatched, SUM(t.closed) AS closed, SUM(t.closed_on_time) AS closed_on_time,
    SUM(t.closed_deferred) AS closed_deferred, SUM(t.feedbacks) AS feedbacks, SUM(t.reworked) AS reworked,
    SUM(t.extended) AS extended, SUM(t.callbacks) AS callbacks, SUM(t.contacted) AS contacted,
    SUM(t.solved) AS solved, SUM(t.satisfied) AS satisfied, SUM(t.basically_satisfied) AS basically_satisfied,
    SUM(t.unsatisfied) AS unsatisfied
    FROM case_stats t GROUP BY t.area_id, t.day, t.category_id) s
JOIN (
    SELECT DISTINCT g.id AS area_id, a.id AS ancestor FROM areas g JOIN areas a ON substr(g.path, 1, length(a.path)) = a.path AND a.id <> g.id
) x ON x.area_id = s.area_id
GROUP BY x.ancestor, s.day, s.k;

INSERT INTO case_stats_rollup (area_id, dim, day, dim_id, reported, accepted, rejected, dispatched, closed, closed_on_time,
    closed_deferred, feedbacks, reworked, extended, callbacks, contacted, solved, satisfied, basically_satisfied, unsatisfied)
SELECT x.ancestor, 'u', s.day, s.k,
    SUM(s.reported), SUM(s.accepted), SUM(s.rejected), SUM(s.dispatched), SUM(s.closed), SUM(s.closed_on_time),
    SUM(s.closed_deferred), SUM(s.feedbacks), SUM(s.reworked), SUM(s.extended), SUM(s.callbacks), SUM(s.contacted),
    SUM(s.solved), SUM(s.satisfied), SUM(s.basically_satisfied), SUM(s.unsatisfied)
FROM (SELECT t.area_id, t.day, t.unit_id AS k,
    SUM(t.reported) AS reported, SUM(t.accepted) AS accepted, SUM(t.rejected) AS rejected,
    SUM(t.dispatched) AS dispatched, SUM(t.closed) AS closed, SUM(t.closed_on_time) AS closed_on_time,
    SUM(t.closed_deferred) AS closed_deferred, SUM(t.feedbacks) AS feedbacks, SUM(t.reworked) AS reworked,
    SUM(t.extended) AS extended, SUM(t.callbacks) AS callbacks, SUM(t.contacted) AS contacted,
    SUM(t.solved) AS solved, SUM(t.satisfied) AS satisfied, SUM(t.basically_satisfied) AS basically_satisfied,
    SUM(t.unsatisfied) AS unsatisfied
    FROM case_stats t GROUP BY t.area_id, t.day, t.unit_id) s
JOIN (
    SELECT DISTINCT g.id AS area_id, a.id AS ancestor FROM areas g JOIN areas a ON substr(g.path, 1, length(a.path)) = a.path AND a.id <> g.id
) x ON x.area_id = s.area_id
GROUP BY x.ancestor, s.day, s.k;

-- +goose Down
DROP TABLE case_stats_rollup;
