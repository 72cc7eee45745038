-- Mediation of disputes (矛盾纠纷调解): the parties, the sessions with their
-- outcome and agreement, and the level the dispute is mediated at.

-- +goose Up
ALTER TABLE cases ADD COLUMN mediation_level TEXT NOT NULL DEFAULT '';

CREATE TABLE case_parties (
    id         {{id}},
    case_id    BIGINT NOT NULL REFERENCES cases (id),
    role       TEXT NOT NULL CHECK (role IN ('applicant', 'respondent', 'other')),
    name_enc   TEXT NOT NULL,
    phone_enc  TEXT NOT NULL DEFAULT '',
    created_at {{time}} NOT NULL
);
CREATE INDEX case_parties_case ON case_parties (case_id);

CREATE TABLE mediation_sessions (
    id           {{id}},
    case_id      BIGINT NOT NULL REFERENCES cases (id),
    level        TEXT NOT NULL,
    held_at      {{time}} NOT NULL,
    place        TEXT NOT NULL DEFAULT '',
    mediators    TEXT NOT NULL DEFAULT '',
    summary      TEXT NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('agreement', 'continue', 'failed')),
    agreement    TEXT NOT NULL DEFAULT '',
    follow_up_at {{time}},
    created_at   {{time}} NOT NULL
);
CREATE INDEX mediation_sessions_case ON mediation_sessions (case_id);

-- +goose Down
DROP TABLE mediation_sessions;
DROP TABLE case_parties;
ALTER TABLE cases DROP COLUMN mediation_level;
