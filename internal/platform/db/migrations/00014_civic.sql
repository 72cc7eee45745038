-- Open community affairs and participation (issue #8): disclosures
-- (居务公开) as an append-only, hash-chained list of notice versions per
-- community; the disclosure plan; deliberation topics from proposal to
-- evaluation (提 → 议 → 决 → 办 → 评), meetings, votes with secret ballots,
-- residents' questions and the supervision committee's opinions.
--
-- area_id / area_path are always the community (社区) the row belongs to;
-- list queries filter on the path range, like the register does.

-- +goose Up
-- One row per version of a notice; a notice is (area_id, notice_no). Rows
-- are never updated: a correction is a new version. seq orders the
-- community's chain and hash = sha256(prev_hash + canonical content), so
-- an edited row fails its hash, a deleted row leaves a gap in seq, and a
-- deleted last row disagrees with civic_chain_heads (and with the head
-- printed on the notice board).
CREATE TABLE civic_notice_versions (
    id           {{id}},
    area_id      BIGINT NOT NULL REFERENCES areas (id),
    area_path    {{ctext}} NOT NULL,
    community    TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    notice_no    BIGINT NOT NULL,
    version      INTEGER NOT NULL,
    category     TEXT NOT NULL CHECK (category IN ('finances', 'subsidies', 'decisions', 'services', 'work_plans', 'evaluations')),
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    period_from  TEXT NOT NULL DEFAULT '',
    period_to    TEXT NOT NULL DEFAULT '',
    topic_id     BIGINT NOT NULL DEFAULT 0,
    -- 低保 and other subsidy lists, as JSON, already masked: the clear
    -- values never reach a table whose rows are public for good
    recipients   TEXT NOT NULL DEFAULT '[]',
    -- name, type, size and sha256 of each attachment, as JSON: the hash
    -- covers the files through these digests
    attachments  TEXT NOT NULL DEFAULT '[]',
    reason       TEXT NOT NULL DEFAULT '',
    publisher    TEXT NOT NULL,
    published_at {{time}} NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL,
    UNIQUE (area_id, seq),
    UNIQUE (area_id, notice_no, version)
);
CREATE INDEX civic_notice_versions_path ON civic_notice_versions (area_path, category, published_at);

-- The head of each community's chain: the last seq and hash.
CREATE TABLE civic_chain_heads (
    area_id BIGINT PRIMARY KEY REFERENCES areas (id),
    seq     BIGINT NOT NULL,
    hash    TEXT NOT NULL
);

-- Attachment bytes. Their sha256 is in the version's attachments list.
CREATE TABLE civic_attachments (
    id           {{id}},
    version_id   BIGINT NOT NULL REFERENCES civic_notice_versions (id),
    idx          INTEGER NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    data         {{blob}} NOT NULL,
    UNIQUE (version_id, idx)
);

-- The disclosure plan: how often a community discloses each category.
-- A category without a row follows the built-in default.
CREATE TABLE civic_plans (
    area_id  BIGINT NOT NULL REFERENCES areas (id),
    category TEXT NOT NULL,
    cadence  TEXT NOT NULL CHECK (cadence IN ('monthly', 'quarterly', 'half_yearly', 'yearly', 'after_decision')),
    days     INTEGER NOT NULL DEFAULT 0,
    since    {{time}} NOT NULL,
    PRIMARY KEY (area_id, category)
);

-- 议题: a matter proposed by a resident or staff (民事民提).
CREATE TABLE civic_topics (
    id            {{id}},
    area_id       BIGINT NOT NULL REFERENCES areas (id),
    area_path     {{ctext}} NOT NULL,
    community     TEXT NOT NULL,
    title         TEXT NOT NULL,
    body          TEXT NOT NULL,
    stage         TEXT NOT NULL CHECK (stage IN ('proposed', 'discussing', 'scheduled', 'decided', 'implementing', 'completed', 'rejected')),
    stage_note    TEXT NOT NULL DEFAULT '',
    proposer_id   BIGINT NOT NULL,
    proposer_name TEXT NOT NULL,
    by_staff      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    {{time}} NOT NULL,
    updated_at    {{time}} NOT NULL
);
CREATE INDEX civic_topics_path ON civic_topics (area_path, created_at);
CREATE INDEX civic_topics_proposer ON civic_topics (proposer_id, created_at);

CREATE TABLE civic_supports (
    topic_id BIGINT NOT NULL REFERENCES civic_topics (id),
    user_id  BIGINT NOT NULL,
    at       {{time}} NOT NULL,
    PRIMARY KEY (topic_id, user_id)
);

-- 民事民议. hidden comments stay (with the moderator's reason) but are
-- not shown.
CREATE TABLE civic_comments (
    id            {{id}},
    topic_id      BIGINT NOT NULL REFERENCES civic_topics (id),
    user_id       BIGINT NOT NULL,
    author        TEXT NOT NULL,
    body          TEXT NOT NULL,
    hidden        BOOLEAN NOT NULL DEFAULT FALSE,
    hidden_reason TEXT NOT NULL DEFAULT '',
    created_at    {{time}} NOT NULL
);
CREATE INDEX civic_comments_topic ON civic_comments (topic_id, id);
CREATE INDEX civic_comments_user ON civic_comments (user_id, created_at);

-- 居民会议, 居民代表会议 or 议事会.
CREATE TABLE civic_meetings (
    id         {{id}},
    area_id    BIGINT NOT NULL REFERENCES areas (id),
    area_path  {{ctext}} NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('residents', 'representatives', 'council')),
    title      TEXT NOT NULL,
    held_at    {{time}} NOT NULL,
    place      TEXT NOT NULL,
    agenda     TEXT NOT NULL,
    attendance INTEGER NOT NULL DEFAULT 0,
    minutes    TEXT NOT NULL DEFAULT '',
    created_at {{time}} NOT NULL
);
CREATE TABLE civic_meeting_topics (
    meeting_id BIGINT NOT NULL REFERENCES civic_meetings (id),
    topic_id   BIGINT NOT NULL REFERENCES civic_topics (id),
    PRIMARY KEY (meeting_id, topic_id)
);

-- 民事民决: how a topic was decided.
CREATE TABLE civic_decisions (
    topic_id   BIGINT PRIMARY KEY REFERENCES civic_topics (id),
    area_path  {{ctext}} NOT NULL,
    by_kind    TEXT NOT NULL CHECK (by_kind IN ('meeting', 'vote')),
    meeting_id BIGINT REFERENCES civic_meetings (id),
    vote_id    BIGINT,
    adopted    BOOLEAN NOT NULL,
    summary    TEXT NOT NULL,
    decided_at {{time}} NOT NULL
);

-- 民事民办
CREATE TABLE civic_progress (
    id       {{id}},
    topic_id BIGINT NOT NULL REFERENCES civic_topics (id),
    percent  INTEGER NOT NULL CHECK (percent BETWEEN 0 AND 100),
    note     TEXT NOT NULL,
    author   TEXT NOT NULL,
    at       {{time}} NOT NULL
);
CREATE INDEX civic_progress_topic ON civic_progress (topic_id, id);

-- 民事民评: one evaluation per resident account per topic.
CREATE TABLE civic_evaluations (
    topic_id BIGINT NOT NULL REFERENCES civic_topics (id),
    user_id  BIGINT NOT NULL,
    rating   INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment  TEXT NOT NULL DEFAULT '',
    at       {{time}} NOT NULL,
    PRIMARY KEY (topic_id, user_id)
);

-- 表决. rule: one vote per household or per adult resident.
CREATE TABLE civic_votes (
    id         {{id}},
    area_id    BIGINT NOT NULL REFERENCES areas (id),
    area_path  {{ctext}} NOT NULL,
    community  TEXT NOT NULL,
    topic_id   BIGINT NOT NULL DEFAULT 0,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL DEFAULT '',
    rule       TEXT NOT NULL CHECK (rule IN ('household', 'resident')),
    secret     BOOLEAN NOT NULL,
    opens_at   {{time}} NOT NULL,
    closes_at  {{time}} NOT NULL,
    created_at {{time}} NOT NULL
);
CREATE INDEX civic_votes_path ON civic_votes (area_path, opens_at);

-- Options with their running tally. A secret ballot is only +1 here, in
-- the same transaction that records the voter: no ballot row exists to
-- link to a voter or to order by time.
CREATE TABLE civic_vote_options (
    vote_id BIGINT NOT NULL REFERENCES civic_votes (id),
    idx     INTEGER NOT NULL,
    label   TEXT NOT NULL,
    tally   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (vote_id, idx)
);

-- Who voted (never how, for secret votes: choice is NULL). voter_key is
-- 'h<household id>' or 'r<resident id>' by the vote's rule: the unique
-- key is what stops a second ballot, on any node, at the same instant.
CREATE TABLE civic_vote_voters (
    vote_id     BIGINT NOT NULL REFERENCES civic_votes (id),
    voter_key   TEXT NOT NULL,
    resident_id BIGINT NOT NULL,
    name        TEXT NOT NULL,
    channel     TEXT NOT NULL CHECK (channel IN ('online', 'paper')),
    recorded_by TEXT NOT NULL,
    choice      INTEGER,
    at          {{time}} NOT NULL,
    PRIMARY KEY (vote_id, voter_key)
);

-- Residents' questions on a notice or a topic, and the staff's answers.
CREATE TABLE civic_questions (
    id          {{id}},
    area_id     BIGINT NOT NULL REFERENCES areas (id),
    area_path   {{ctext}} NOT NULL,
    target_type TEXT NOT NULL CHECK (target_type IN ('notice', 'topic')),
    target_id   BIGINT NOT NULL,
    user_id     BIGINT NOT NULL,
    asker       TEXT NOT NULL,
    body        TEXT NOT NULL,
    asked_at    {{time}} NOT NULL,
    due_at      {{time}} NOT NULL,
    answer      TEXT NOT NULL DEFAULT '',
    answerer    TEXT NOT NULL DEFAULT '',
    answered_at {{time}}
);
CREATE INDEX civic_questions_target ON civic_questions (target_type, target_id);
CREATE INDEX civic_questions_due ON civic_questions (area_path, answered_at, due_at);
CREATE INDEX civic_questions_user ON civic_questions (user_id, asked_at);

-- 居务监督委员会: a member's opinion on a notice version or a topic.
CREATE TABLE civic_opinions (
    id          {{id}},
    area_path   {{ctext}} NOT NULL,
    target_type TEXT NOT NULL CHECK (target_type IN ('notice', 'topic')),
    target_id   BIGINT NOT NULL,
    user_id     BIGINT NOT NULL,
    member      TEXT NOT NULL,
    stance      TEXT NOT NULL CHECK (stance IN ('agree', 'object')),
    reasons     TEXT NOT NULL DEFAULT '',
    at          {{time}} NOT NULL,
    UNIQUE (target_type, target_id, user_id)
);

-- +goose Down
DROP TABLE civic_opinions;
DROP TABLE civic_questions;
DROP TABLE civic_vote_voters;
DROP TABLE civic_vote_options;
DROP TABLE civic_votes;
DROP TABLE civic_evaluations;
DROP TABLE civic_progress;
DROP TABLE civic_decisions;
DROP TABLE civic_meeting_topics;
DROP TABLE civic_meetings;
DROP TABLE civic_comments;
DROP TABLE civic_supports;
DROP TABLE civic_topics;
DROP TABLE civic_plans;
DROP TABLE civic_attachments;
DROP TABLE civic_chain_heads;
DROP TABLE civic_notice_versions;
