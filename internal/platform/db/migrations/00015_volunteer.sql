-- Volunteers and social organisations (issue #9): the community's social
-- organisations (社会组织) and its party organisation (社区党组织) with their
-- members, volunteers (志愿者) with teams and service brands, activities
-- with sign-up and check-in, and the ledgers: service hours, points, the
-- reward shelf (爱心超市), the time bank (时间银行), star levels and proofs.
--
-- Every object belongs to a community (area_id, with area_path kept for
-- the scope filter). Amounts of time are whole minutes, so that sums are
-- exact on both engines.
--
-- The three ledgers (volunteer_hours, volunteer_points,
-- volunteer_timebank) are append-only: the service never updates or
-- deletes a row; a correction is a new row with a reason. Each ledger's
-- balance is also kept on its account row, changed in the same transaction
-- as the entry by a conditional UPDATE, so that the database itself refuses
-- a balance below zero (CHECK) and two concurrent debits cannot both pass.

-- +goose Up
-- Social organisations and the party organisation. kind 'party' is the
-- community party organisation, one per community.
CREATE TABLE volunteer_orgs (
    id           {{id}},
    area_id      BIGINT NOT NULL REFERENCES areas (id),
    area_path    {{ctext}} NOT NULL,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('public_service', 'social_affairs', 'culture_sports', 'charity', 'legal_rights', 'party')),
    status       TEXT NOT NULL CHECK (status IN ('incubating', 'filed', 'registered')),
    leader       TEXT NOT NULL DEFAULT '',
    contact_enc  TEXT NOT NULL DEFAULT '',
    founded      TEXT NOT NULL DEFAULT '',
    description  TEXT NOT NULL DEFAULT '',
    created_at   {{time}} NOT NULL,
    updated_at   {{time}} NOT NULL,
    UNIQUE (area_id, name)
);
CREATE INDEX volunteer_orgs_path ON volunteer_orgs (area_path);
CREATE UNIQUE INDEX volunteer_orgs_one_party ON volunteer_orgs (area_id) WHERE kind = 'party';

-- Yearly review (年度评估) of an organisation.
CREATE TABLE volunteer_org_reviews (
    org_id      BIGINT NOT NULL REFERENCES volunteer_orgs (id),
    year        INTEGER NOT NULL,
    result      TEXT NOT NULL CHECK (result IN ('excellent', 'qualified', 'unqualified')),
    note        TEXT NOT NULL DEFAULT '',
    reviewed_by BIGINT,
    reviewed_at {{time}} NOT NULL,
    PRIMARY KEY (org_id, year)
);

-- Volunteers (志愿者). number is the 志愿者编号 printed on proofs. A
-- volunteer who registered themselves carries their account (user_id) and
-- register entry (resident_id); one registered by an organisation may have
-- neither. area_id is where they live when the register knows it (their
-- grid, so that its grid worker sees them), else their community;
-- community_id is the community they serve and spend points in. id_idx is the blind index of the ID number: one person, one
-- registration. The three balances mirror the ledgers below.
CREATE TABLE volunteers (
    id            {{id}},
    number        TEXT NOT NULL UNIQUE,
    area_id       BIGINT NOT NULL REFERENCES areas (id),
    area_path     {{ctext}} NOT NULL,
    community_id  BIGINT NOT NULL REFERENCES areas (id),
    community_path {{ctext}} NOT NULL,
    resident_id   BIGINT UNIQUE,
    user_id       BIGINT UNIQUE,
    org_id        BIGINT REFERENCES volunteer_orgs (id),
    name          TEXT NOT NULL,
    id_type       TEXT NOT NULL CHECK (id_type IN ('resident_id', 'passport', 'other')),
    id_enc        TEXT NOT NULL,
    id_idx        TEXT NOT NULL UNIQUE,
    phone_enc     TEXT NOT NULL DEFAULT '',
    skills        TEXT NOT NULL DEFAULT '',
    availability  TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL CHECK (status IN ('pending', 'verified', 'suspended')),
    verified_by   BIGINT,
    verified_at   {{time}},
    minutes       INTEGER NOT NULL DEFAULT 0 CHECK (minutes >= 0),
    points        INTEGER NOT NULL DEFAULT 0 CHECK (points >= 0),
    created_at    {{time}} NOT NULL
);
CREATE INDEX volunteers_path ON volunteers (area_path, status);

-- Members of an organisation. For the party organisation, party says
-- whether the member lives in the community ('resident') or is an
-- in-service member who registered here (双报到, 'in_service', with the
-- workplace); commitment is the service they promised (服务承诺).
-- volunteer_id links the member's counted service hours.
CREATE TABLE volunteer_org_members (
    id           {{id}},
    org_id       BIGINT NOT NULL REFERENCES volunteer_orgs (id),
    volunteer_id BIGINT REFERENCES volunteers (id),
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('leader', 'member')),
    party        TEXT NOT NULL DEFAULT '' CHECK (party IN ('', 'resident', 'in_service')),
    workplace    TEXT NOT NULL DEFAULT '',
    commitment   TEXT NOT NULL DEFAULT '',
    joined_on    TEXT NOT NULL,
    created_at   {{time}} NOT NULL
);
CREATE INDEX volunteer_org_members_org ON volunteer_org_members (org_id);

-- Volunteer teams, each optionally carrying a service brand (品牌项目).
CREATE TABLE volunteer_teams (
    id          {{id}},
    area_id     BIGINT NOT NULL REFERENCES areas (id),
    area_path   {{ctext}} NOT NULL,
    org_id      BIGINT REFERENCES volunteer_orgs (id),
    name        TEXT NOT NULL,
    brand       TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    created_at  {{time}} NOT NULL,
    UNIQUE (area_id, name)
);
CREATE TABLE volunteer_team_members (
    team_id      BIGINT NOT NULL REFERENCES volunteer_teams (id),
    volunteer_id BIGINT NOT NULL REFERENCES volunteers (id),
    joined_at    {{time}} NOT NULL,
    PRIMARY KEY (team_id, volunteer_id)
);

-- Activities: volunteer service, or events for all residents (lectures,
-- culture and sports, health talks, policy briefings). taken counts the
-- live sign-ups; the CHECK and the conditional UPDATE that raises it keep
-- sign-ups within slots under any concurrency. cap_minutes is the most one
-- participant is credited. A 'high' risk activity needs insurance recorded
-- before it starts.
CREATE TABLE volunteer_activities (
    id           {{id}},
    area_id      BIGINT NOT NULL REFERENCES areas (id),
    area_path    {{ctext}} NOT NULL,
    org_id       BIGINT REFERENCES volunteer_orgs (id),
    team_id      BIGINT REFERENCES volunteer_teams (id),
    title        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    audience     TEXT NOT NULL CHECK (audience IN ('volunteers', 'residents')),
    description  TEXT NOT NULL DEFAULT '',
    place        TEXT NOT NULL,
    lon          DOUBLE PRECISION NOT NULL,
    lat          DOUBLE PRECISION NOT NULL,
    starts_at    {{time}} NOT NULL,
    ends_at      {{time}} NOT NULL,
    slots        INTEGER NOT NULL CHECK (slots > 0),
    taken        INTEGER NOT NULL DEFAULT 0 CHECK (taken >= 0 AND taken <= slots),
    skills       TEXT NOT NULL DEFAULT '',
    risk         TEXT NOT NULL CHECK (risk IN ('low', 'high')),
    insurance    TEXT NOT NULL DEFAULT '',
    time_bank    BOOLEAN NOT NULL DEFAULT FALSE,
    cap_minutes  INTEGER NOT NULL CHECK (cap_minutes > 0),
    status       TEXT NOT NULL CHECK (status IN ('published', 'cancelled')),
    organiser    TEXT NOT NULL DEFAULT '',
    created_by   BIGINT,
    created_at   {{time}} NOT NULL
);
CREATE INDEX volunteer_activities_path ON volunteer_activities (area_path, starts_at);
CREATE INDEX volunteer_activities_when ON volunteer_activities (starts_at);

-- One sign-up per participant and activity: participant is 'v<id>' for a
-- volunteer and 'r<id>' for a resident at a residents' event.
-- credited_minutes is set once, when the organiser confirms the hours.
CREATE TABLE volunteer_signups (
    id               {{id}},
    activity_id      BIGINT NOT NULL REFERENCES volunteer_activities (id),
    participant      TEXT NOT NULL,
    volunteer_id     BIGINT REFERENCES volunteers (id),
    resident_id      BIGINT,
    name             TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('signed', 'confirmed', 'cancelled', 'credited')),
    checked_in_at    {{time}},
    checked_out_at   {{time}},
    check_method     TEXT NOT NULL DEFAULT '',
    credited_minutes INTEGER,
    rating           INTEGER CHECK (rating BETWEEN 1 AND 5),
    feedback         TEXT NOT NULL DEFAULT '',
    created_at       {{time}} NOT NULL,
    UNIQUE (activity_id, participant)
);
CREATE INDEX volunteer_signups_volunteer ON volunteer_signups (volunteer_id);

-- The hours ledger (append-only). A credit names its sign-up, once; a
-- correction names its reason. minutes may be negative for a correction.
CREATE TABLE volunteer_hours (
    id           {{id}},
    volunteer_id BIGINT NOT NULL REFERENCES volunteers (id),
    kind         TEXT NOT NULL CHECK (kind IN ('credit', 'correction')),
    minutes      INTEGER NOT NULL CHECK (minutes <> 0),
    signup_id    BIGINT UNIQUE REFERENCES volunteer_signups (id),
    activity_id  BIGINT REFERENCES volunteer_activities (id),
    service_kind TEXT NOT NULL DEFAULT '',
    reason       TEXT NOT NULL DEFAULT '',
    created_by   BIGINT,
    created_at   {{time}} NOT NULL
);
CREATE INDEX volunteer_hours_volunteer ON volunteer_hours (volunteer_id, created_at);
CREATE INDEX volunteer_hours_when ON volunteer_hours (created_at);

-- Rules for earning points: per hour and per activity of a kind, with a
-- cap per activity. kind '' is the rule for every kind without its own.
CREATE TABLE volunteer_point_rules (
    kind         TEXT PRIMARY KEY,
    per_hour     INTEGER NOT NULL CHECK (per_hour >= 0),
    per_activity INTEGER NOT NULL CHECK (per_activity >= 0),
    cap          INTEGER NOT NULL CHECK (cap >= 0)
);
INSERT INTO volunteer_point_rules (kind, per_hour, per_activity, cap) VALUES ('', 1, 0, 10);

-- The reward shelf (爱心超市) of a community.
CREATE TABLE volunteer_rewards (
    id         {{id}},
    area_id    BIGINT NOT NULL REFERENCES areas (id),
    area_path  {{ctext}} NOT NULL,
    name       TEXT NOT NULL,
    cost       INTEGER NOT NULL CHECK (cost > 0),
    stock      INTEGER NOT NULL CHECK (stock >= 0),
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at {{time}} NOT NULL
);
CREATE INDEX volunteer_rewards_path ON volunteer_rewards (area_path);

CREATE TABLE volunteer_redemptions (
    id           {{id}},
    reward_id    BIGINT NOT NULL REFERENCES volunteer_rewards (id),
    volunteer_id BIGINT NOT NULL REFERENCES volunteers (id),
    cost         INTEGER NOT NULL,
    code         TEXT NOT NULL UNIQUE,
    collected_at {{time}},
    created_at   {{time}} NOT NULL
);

-- The points ledger (append-only). Positive rows are lots that expire at
-- expires_at (NULL: never); negative rows (spend, expire, correction) use
-- the oldest lots first.
CREATE TABLE volunteer_points (
    id            {{id}},
    volunteer_id  BIGINT NOT NULL REFERENCES volunteers (id),
    kind          TEXT NOT NULL CHECK (kind IN ('earn', 'spend', 'expire', 'correction')),
    points        INTEGER NOT NULL CHECK (points <> 0),
    activity_id   BIGINT REFERENCES volunteer_activities (id),
    signup_id     BIGINT UNIQUE REFERENCES volunteer_signups (id),
    redemption_id BIGINT REFERENCES volunteer_redemptions (id),
    reason        TEXT NOT NULL DEFAULT '',
    expires_at    {{time}},
    created_at    {{time}} NOT NULL
);
CREATE INDEX volunteer_points_volunteer ON volunteer_points (volunteer_id);

-- The time bank (时间银行): accounts of register residents, in minutes
-- (60 = one coin). Coins are deposited for time-bank service, given to
-- family members of the same household, and withdrawn as service
-- received; never paid out in cash.
CREATE TABLE volunteer_timebank_accounts (
    resident_id BIGINT PRIMARY KEY,
    area_path   {{ctext}} NOT NULL,
    minutes     INTEGER NOT NULL DEFAULT 0 CHECK (minutes >= 0)
);
CREATE TABLE volunteer_timebank (
    id          {{id}},
    resident_id BIGINT NOT NULL REFERENCES volunteer_timebank_accounts (resident_id),
    kind        TEXT NOT NULL CHECK (kind IN ('deposit', 'gift_out', 'gift_in', 'withdraw')),
    minutes     INTEGER NOT NULL CHECK (minutes <> 0),
    signup_id   BIGINT UNIQUE REFERENCES volunteer_signups (id),
    other_id    BIGINT,
    reason      TEXT NOT NULL DEFAULT '',
    created_at  {{time}} NOT NULL
);
CREATE INDEX volunteer_timebank_resident ON volunteer_timebank (resident_id);

-- Star levels: a level reached is publicly noticed (公示) from noticed_at;
-- it is awarded once award_after has passed without being withdrawn.
CREATE TABLE volunteer_stars (
    volunteer_id BIGINT NOT NULL REFERENCES volunteers (id),
    level        INTEGER NOT NULL CHECK (level BETWEEN 1 AND 9),
    noticed_at   {{time}} NOT NULL,
    award_after  {{time}} NOT NULL,
    awarded_at   {{time}},
    withdrawn    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (volunteer_id, level)
);

-- Proofs of service (志愿服务证明): what was printed, frozen, so that the
-- public verification page shows exactly what the paper says.
CREATE TABLE volunteer_proofs (
    number        TEXT PRIMARY KEY,
    volunteer_id  BIGINT NOT NULL REFERENCES volunteers (id),
    name          TEXT NOT NULL,
    id_type       TEXT NOT NULL,
    id_masked     TEXT NOT NULL,
    vol_number    TEXT NOT NULL,
    minutes       INTEGER NOT NULL,
    content       TEXT NOT NULL,
    issuer        TEXT NOT NULL,
    responsible   TEXT NOT NULL,
    handler       TEXT NOT NULL,
    issued_on     TEXT NOT NULL,
    created_at    {{time}} NOT NULL
);

-- +goose Down
DROP TABLE volunteer_proofs;
DROP TABLE volunteer_stars;
DROP TABLE volunteer_timebank;
DROP TABLE volunteer_timebank_accounts;
DROP TABLE volunteer_points;
DROP TABLE volunteer_redemptions;
DROP TABLE volunteer_rewards;
DROP TABLE volunteer_point_rules;
DROP TABLE volunteer_hours;
DROP TABLE volunteer_signups;
DROP TABLE volunteer_activities;
DROP TABLE volunteer_team_members;
DROP TABLE volunteer_teams;
DROP TABLE volunteer_org_members;
DROP TABLE volunteers;
DROP TABLE volunteer_org_reviews;
DROP TABLE volunteer_orgs;
