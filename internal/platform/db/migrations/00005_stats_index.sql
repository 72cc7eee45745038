-- The dashboards' aggregate: the daily counters of case_stats added up for
-- the case's area and every area above it, once by category and once by
-- unit. It is kept current in the transaction of each transition, next to
-- case_stats, so that the figures of an area are read from that area's own
-- rows: a year of a district is 365 days × its categories, whatever the
-- number of cases and grids under it. case_stats (per grid × unit ×
-- category × day) holds a row for nearly every case on such a scale; adding
-- up millions of them took seconds.
--
-- area_id is the area or one of its ancestors (0 for cases located in no
-- area); dim is 'c' (dim_id is the category id) or 'u' (dim_id is the unit
-- id, 0 before dispatch). Each dim alone adds up to the area's figures.

-- +goose Up
CREATE TABLE case_stats_rollup (
    area_id            BIGINT NOT NULL,
    dim                TEXT NOT NULL CHECK (dim IN ('c', 'u')),
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

-- The counters already kept, rolled up. An area's ancestors are the areas
-- whose path starts its path; an area_id that names no area (0) is its own
-- and only ancestor.
INSERT INTO case_stats_rollup (area_id, dim, day, dim_id, reported, accepted, rejected, dispatched, closed, closed_on_time,
    closed_deferred, feedbacks, reworked, extended, callbacks, contacted, solved, satisfied, basically_satisfied, unsatisfied)
SELECT x.ancestor, 'c', t.day, t.category_id, SUM(t.reported), SUM(t.accepted), SUM(t.rejected), SUM(t.dispatched), SUM(t.closed),
    SUM(t.closed_on_time), SUM(t.closed_deferred), SUM(t.feedbacks), SUM(t.reworked), SUM(t.extended), SUM(t.callbacks),
    SUM(t.contacted), SUM(t.solved), SUM(t.satisfied), SUM(t.basically_satisfied), SUM(t.unsatisfied)
FROM case_stats t JOIN (
    SELECT g.id AS area_id, a.id AS ancestor FROM areas g JOIN areas a ON substr(g.path, 1, length(a.path)) = a.path
    UNION ALL
    SELECT DISTINCT s.area_id, s.area_id FROM case_stats s WHERE s.area_id NOT IN (SELECT id FROM areas)
) x ON x.area_id = t.area_id
GROUP BY x.ancestor, t.day, t.category_id;

INSERT INTO case_stats_rollup (area_id, dim, day, dim_id, reported, accepted, rejected, dispatched, closed, closed_on_time,
    closed_deferred, feedbacks, reworked, extended, callbacks, contacted, solved, satisfied, basically_satisfied, unsatisfied)
SELECT x.ancestor, 'u', t.day, t.unit_id, SUM(t.reported), SUM(t.accepted), SUM(t.rejected), SUM(t.dispatched), SUM(t.closed),
    SUM(t.closed_on_time), SUM(t.closed_deferred), SUM(t.feedbacks), SUM(t.reworked), SUM(t.extended), SUM(t.callbacks),
    SUM(t.contacted), SUM(t.solved), SUM(t.satisfied), SUM(t.basically_satisfied), SUM(t.unsatisfied)
FROM case_stats t JOIN (
    SELECT g.id AS area_id, a.id AS ancestor FROM areas g JOIN areas a ON substr(g.path, 1, length(a.path)) = a.path
    UNION ALL
    SELECT DISTINCT s.area_id, s.area_id FROM case_stats s WHERE s.area_id NOT IN (SELECT id FROM areas)
) x ON x.area_id = t.area_id
GROUP BY x.ancestor, t.day, t.unit_id;

-- +goose Down
DROP TABLE case_stats_rollup;
