-- Closed assessment periods are frozen. When the street closes a period,
-- the card of every community is copied here in the same transaction;
-- from then on the scorecard, its ranks, its page and its Excel export
-- read the copy, so that data arriving late (a callback logged after the
-- period, a notice published after it, a time limit passing) no longer
-- moves it. Reopening is explicit, with a reason kept on the period (and
-- in the audit log), and drops the copy: the card is live again until the
-- next close.

-- +goose Up
ALTER TABLE assess_periods ADD COLUMN closed_at {{time}};
ALTER TABLE assess_periods ADD COLUMN closed_by BIGINT;
ALTER TABLE assess_periods ADD COLUMN reopened_at {{time}};
ALTER TABLE assess_periods ADD COLUMN reopen_reason TEXT NOT NULL DEFAULT '';

-- One community's frozen card: its code and name as they were at the
-- close, its total (0–100) and rank among the street's communities.
CREATE TABLE assess_period_cards (
    period_id BIGINT NOT NULL REFERENCES assess_periods (id) ON DELETE CASCADE,
    area_id   BIGINT NOT NULL REFERENCES areas (id),
    area_path {{ctext}} NOT NULL,
    code      TEXT NOT NULL,
    name      TEXT NOT NULL,
    total     DOUBLE PRECISION NOT NULL,
    rank      INTEGER NOT NULL,
    PRIMARY KEY (period_id, area_id)
);

-- One figure of a frozen card, as the card showed it: value, score (what
-- the weight multiplies), the counts behind it, whether there was data,
-- the weight and the figure's rank.
CREATE TABLE assess_period_figures (
    period_id BIGINT NOT NULL,
    area_id   BIGINT NOT NULL,
    figure    TEXT NOT NULL,
    has_data  BOOLEAN NOT NULL,
    value     DOUBLE PRECISION NOT NULL,
    score     DOUBLE PRECISION NOT NULL,
    num       DOUBLE PRECISION NOT NULL,
    den       DOUBLE PRECISION NOT NULL,
    weight    INTEGER NOT NULL,
    rank      INTEGER NOT NULL,
    PRIMARY KEY (period_id, area_id, figure),
    FOREIGN KEY (period_id, area_id) REFERENCES assess_period_cards (period_id, area_id) ON DELETE CASCADE
);

-- 部门名录: the departments of a street (or district) that apply to admit
-- tasks and hand them down, kept by the street's burden-reduction group.
-- Before this list the department was free text, so one department typed
-- two ways counted as two in the burden report. code and name are unique
-- per street; a department is deactivated, never deleted, so that the
-- rows that name it keep their history.
CREATE TABLE assess_departments (
    id         {{id}},
    area_id    BIGINT NOT NULL REFERENCES areas (id),
    area_path  {{ctext}} NOT NULL,
    code       TEXT NOT NULL,
    name       TEXT NOT NULL,
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at {{time}} NOT NULL,
    UNIQUE (area_id, code),
    UNIQUE (area_id, name)
);
CREATE INDEX assess_departments_path ON assess_departments (area_path, active);

-- The text column stays: it is the department's name at the time of the
-- row (history); department_id is who it was, for grouping.
ALTER TABLE assess_tasks ADD COLUMN department_id BIGINT REFERENCES assess_departments (id);
ALTER TABLE assess_handdowns ADD COLUMN department_id BIGINT REFERENCES assess_departments (id);

-- Copy the free text into the list, one department per distinct name and
-- street: a task's street is its own area, a hand-down's is its
-- community's parent. Codes are D1, D2, … per street in the order the
-- names first appeared; the street then renames them, gives them proper
-- codes, and deactivates the stray spellings.
INSERT INTO assess_departments (area_id, area_path, code, name, active, created_at)
SELECT area_id, area_path, 'D' || CAST(ROW_NUMBER() OVER (PARTITION BY area_id ORDER BY MIN(created_at), name) AS TEXT),
       name, TRUE, MIN(created_at)
FROM (
    SELECT t.area_id, t.area_path, t.department AS name, t.created_at FROM assess_tasks t
    UNION ALL
    SELECT s.id, s.path, h.department, h.created_at
    FROM assess_handdowns h JOIN areas c ON c.id = h.area_id JOIN areas s ON s.id = c.parent_id
) AS used
GROUP BY area_id, area_path, name;

UPDATE assess_tasks SET department_id = (SELECT d.id FROM assess_departments d
    WHERE d.area_id = assess_tasks.area_id AND d.name = assess_tasks.department);
UPDATE assess_handdowns SET department_id = (SELECT d.id FROM assess_departments d JOIN areas c ON c.parent_id = d.area_id
    WHERE c.id = assess_handdowns.area_id AND d.name = assess_handdowns.department);

-- +goose Down
ALTER TABLE assess_handdowns DROP COLUMN department_id;
ALTER TABLE assess_tasks DROP COLUMN department_id;
DROP TABLE assess_departments;
DROP TABLE assess_period_figures;
DROP TABLE assess_period_cards;
ALTER TABLE assess_periods DROP COLUMN reopen_reason;
ALTER TABLE assess_periods DROP COLUMN reopened_at;
ALTER TABLE assess_periods DROP COLUMN closed_by;
ALTER TABLE assess_periods DROP COLUMN closed_at;
