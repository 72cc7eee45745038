-- Assessment led by residents and less paperwork for communities:
-- the task admission registry (社区工作准入) and the tasks departments hand
-- down, the certificate list (证明事项), resident surveys, and the
-- versioned weights of the integrated scorecard.
--
-- Rows that belong to an area keep its id and path (area_path, copied
-- from areas where it never changes) so that list queries filter by the
-- caller's scope with a range on the path.

-- +goose Up
-- 准入事项: one task on a community's lists. list is the list it is on:
-- statutory duties (依法履行职责事项), assistance tasks (依法协助政府工作
-- 事项) or the negative list (负面清单: must not be given to communities).
-- area_id is the street (or district) whose communities it concerns.
-- number is the admission number, given when the street admits it;
-- review_due is when the burden-reduction group must have decided.
CREATE TABLE assess_tasks (
    id             {{id}},
    number         TEXT UNIQUE,
    list           TEXT NOT NULL CHECK (list IN ('duty', 'assist', 'negative')),
    area_id        BIGINT NOT NULL REFERENCES areas (id),
    area_path      {{ctext}} NOT NULL,
    department     TEXT NOT NULL,
    title          TEXT NOT NULL,
    content        TEXT NOT NULL DEFAULT '',
    legal_basis    TEXT NOT NULL DEFAULT '',
    hours          DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK (hours >= 0),
    cadence        TEXT NOT NULL DEFAULT 'once',
    funding        TEXT NOT NULL DEFAULT '',
    staff          TEXT NOT NULL DEFAULT '',
    state          TEXT NOT NULL CHECK (state IN ('pending', 'admitted', 'refused', 'revoked')),
    reason         TEXT NOT NULL DEFAULT '',
    applied_by     BIGINT,
    decided_by     BIGINT,
    review_due     {{time}} NOT NULL,
    decided_at     {{time}},
    expires_at     {{time}},
    created_at     {{time}} NOT NULL
);
CREATE INDEX assess_tasks_path ON assess_tasks (area_path, state);

-- 下派: a report form, a ledger, an inspection or a plaque a department
-- hands down to one community. state: admitted (cites a valid admission
-- number), unadmitted (cites none: the community may refuse it), refused
-- (the community did), exempt (an emergency, recorded but not gated).
CREATE TABLE assess_handdowns (
    id           {{id}},
    task_id      BIGINT REFERENCES assess_tasks (id),
    area_id      BIGINT NOT NULL REFERENCES areas (id),
    area_path    {{ctext}} NOT NULL,
    department   TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('report', 'ledger', 'inspection', 'plaque', 'other')),
    title        TEXT NOT NULL,
    hours        DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK (hours >= 0),
    emergency    TEXT NOT NULL DEFAULT '',
    state        TEXT NOT NULL CHECK (state IN ('admitted', 'unadmitted', 'refused', 'exempt')),
    reason       TEXT NOT NULL DEFAULT '',
    created_by   BIGINT,
    created_at   {{time}} NOT NULL,
    refused_by   BIGINT,
    refused_at   {{time}}
);
CREATE INDEX assess_handdowns_path ON assess_handdowns (area_path, created_at);

-- 证明事项: a certificate a community may issue (allowed) or must not
-- (refused, with the reason and the office that issues it instead).
-- area_path '' is the national / default list; a street adds its own.
CREATE TABLE assess_certificates (
    id        {{id}},
    code      TEXT NOT NULL,
    area_path {{ctext}} NOT NULL DEFAULT '',
    allowed   BOOLEAN NOT NULL,
    name_zh   TEXT NOT NULL,
    name_en   TEXT NOT NULL,
    reason_zh TEXT NOT NULL DEFAULT '',
    reason_en TEXT NOT NULL DEFAULT '',
    office_zh TEXT NOT NULL DEFAULT '',
    office_en TEXT NOT NULL DEFAULT '',
    UNIQUE (area_path, code)
);
INSERT INTO assess_certificates (code, allowed, name_zh, name_en, reason_zh, reason_en, office_zh, office_en) VALUES
    ('residence', TRUE, '居住证明', 'Proof of residence', '', '', '', ''),
    ('hardship', TRUE, '困难家庭生活困难证明', 'Proof of household hardship', '', '', '', ''),
    ('student_practice', TRUE, '中小学生社区实践证明', 'Proof of a pupil''s community practice', '', '', '', ''),
    ('maintenance_fund', TRUE, '住宅专项维修资金使用证明', 'Proof for the use of the housing maintenance fund', '', '', '', ''),
    ('kinship', FALSE, '亲属关系证明', 'Proof of kinship', '民发〔2020〕20号第一批不应由社区出具的证明', 'On the first national list of proofs communities must not issue (民发〔2020〕20号)', '公安派出所（户口簿）或公证机构', 'Police station (household register) or a notary'),
    ('identity', FALSE, '居民身份信息证明', 'Proof of identity', '民发〔2020〕20号第一批不应由社区出具的证明', 'On the first national list of proofs communities must not issue (民发〔2020〕20号)', '公安派出所', 'Police station'),
    ('hukou_change', FALSE, '户口登记项目内容变更证明', 'Proof of a change in household registration', '民发〔2020〕20号第一批不应由社区出具的证明', 'On the first national list of proofs communities must not issue (民发〔2020〕20号)', '公安派出所', 'Police station'),
    ('dog', FALSE, '居民养犬证明', 'Proof of dog keeping', '民发〔2020〕20号第一批不应由社区出具的证明', 'On the first national list of proofs communities must not issue (民发〔2020〕20号)', '公安机关犬类管理部门', 'The police''s dog registration office'),
    ('no_crime', FALSE, '无犯罪记录证明', 'Proof of no criminal record', '民发〔2020〕20号第一批不应由社区出具的证明', 'On the first national list of proofs communities must not issue (民发〔2020〕20号)', '公安派出所', 'Police station'),
    ('rehab', FALSE, '社区戒毒社区康复人员情况证明', 'Proof on a person in community drug rehabilitation', '民发〔2020〕20号第一批不应由社区出具的证明', 'On the first national list of proofs communities must not issue (民发〔2020〕20号)', '街道禁毒工作办公室', 'The street''s drug control office'),
    ('missing', FALSE, '人员失踪证明', 'Proof that a person is missing', '民发〔2020〕20号第一批不应由社区出具的证明', 'On the first national list of proofs communities must not issue (民发〔2020〕20号)', '公安机关（报案回执）或人民法院（宣告失踪）', 'Police (report receipt) or a court (declaration of disappearance)'),
    ('marital', FALSE, '婚姻状况证明', 'Proof of marital status', '民发〔2020〕20号第一批不应由社区出具的证明', 'On the first national list of proofs communities must not issue (民发〔2020〕20号)', '民政部门婚姻登记机关', 'Marriage registry of the civil affairs bureau'),
    ('birth', FALSE, '出生证明', 'Proof of birth', '民发〔2020〕20号第一批不应由社区出具的证明', 'On the first national list of proofs communities must not issue (民发〔2020〕20号)', '助产医疗机构（出生医学证明）', 'The hospital of birth (medical birth certificate)'),
    ('alive', FALSE, '健在证明', 'Proof of being alive', '民发〔2020〕20号第一批不应由社区出具的证明', 'On the first national list of proofs communities must not issue (民发〔2020〕20号)', '社会保险经办机构（资格认证）', 'The social insurance office (entitlement check)'),
    ('death', FALSE, '死亡证明', 'Proof of death', '民发〔2020〕20号第一批不应由社区出具的证明', 'On the first national list of proofs communities must not issue (民发〔2020〕20号)', '医疗机构或公安机关', 'A hospital or the police'),
    ('illness', FALSE, '疾病状况证明', 'Proof of illness', '民发〔2020〕20号第一批不应由社区出具的证明', 'On the first national list of proofs communities must not issue (民发〔2020〕20号)', '医疗机构', 'A hospital'),
    ('disability', FALSE, '残疾状况证明', 'Proof of disability', '民发〔2020〕20号第一批不应由社区出具的证明', 'On the first national list of proofs communities must not issue (民发〔2020〕20号)', '残疾人联合会（残疾人证）', 'The disabled persons'' federation (disability card)'),
    ('childbearing', FALSE, '婚育状况证明', 'Proof of marriage and childbearing status', '民发〔2020〕20号第一批不应由社区出具的证明', 'On the first national list of proofs communities must not issue (民发〔2020〕20号)', '卫生健康部门（个人承诺）', 'The health commission (personal declaration)'),
    ('employment', FALSE, '居民就业状况证明', 'Proof of employment status', '民发〔2020〕20号第一批不应由社区出具的证明', 'On the first national list of proofs communities must not issue (民发〔2020〕20号)', '人力资源和社会保障部门', 'The human resources and social security bureau'),
    ('personal_file', FALSE, '居民个人档案证明', 'Proof from a personal file', '民发〔2020〕20号第一批不应由社区出具的证明', 'On the first national list of proofs communities must not issue (民发〔2020〕20号)', '档案保管单位（人才服务中心）', 'The keeper of the file (talent service centre)'),
    ('property', FALSE, '居民财产证明', 'Proof of property', '民发〔2020〕20号第一批不应由社区出具的证明', 'On the first national list of proofs communities must not issue (民发〔2020〕20号)', '不动产登记机构等登记机关', 'The real estate registry or other registries'),
    ('inheritance', FALSE, '遗产继承权证明', 'Proof of inheritance rights', '民发〔2020〕20号第一批不应由社区出具的证明', 'On the first national list of proofs communities must not issue (民发〔2020〕20号)', '公证机构或人民法院', 'A notary or a court'),
    ('business_address', FALSE, '市场主体住所证明', 'Proof of a business''s address', '民发〔2020〕20号第一批不应由社区出具的证明', 'On the first national list of proofs communities must not issue (民发〔2020〕20号)', '市场监督管理部门（住所申报承诺）', 'The market regulator (address declaration)'),
    ('lost_document', FALSE, '证件遗失证明', 'Proof of a lost document', '民发〔2020〕20号第一批不应由社区出具的证明', 'On the first national list of proofs communities must not issue (民发〔2020〕20号)', '证件签发机关（挂失补办）', 'The authority that issued the document (report and reissue)');

-- 问卷: a survey of the residents (per = 'resident') or households
-- (per = 'household') of an area, open from opens_at to closes_at.
CREATE TABLE assess_surveys (
    id         {{id}},
    area_id    BIGINT NOT NULL REFERENCES areas (id),
    area_path  {{ctext}} NOT NULL,
    title      TEXT NOT NULL,
    per        TEXT NOT NULL CHECK (per IN ('resident', 'household')),
    anonymous  BOOLEAN NOT NULL DEFAULT FALSE,
    opens_at   {{time}} NOT NULL,
    closes_at  {{time}} NOT NULL,
    created_by BIGINT,
    created_at {{time}} NOT NULL
);
CREATE INDEX assess_surveys_path ON assess_surveys (area_path, opens_at);

-- kind: single, multiple (options a JSON array of labels), rating (1–5),
-- text.
CREATE TABLE assess_questions (
    id        {{id}},
    survey_id BIGINT NOT NULL REFERENCES assess_surveys (id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('single', 'multiple', 'rating', 'text')),
    prompt    TEXT NOT NULL,
    options   TEXT NOT NULL DEFAULT '[]',
    required  BOOLEAN NOT NULL DEFAULT TRUE,
    UNIQUE (survey_id, seq)
);

-- Who has answered, once: voter is "r<resident id>" or "h<household
-- id>" — for an anonymous survey a keyed hash of it — or "p<sheet no>" for
-- a paper sheet that names nobody. The primary key is what refuses a
-- second answer under any concurrency. Nothing here points at the
-- response, so an anonymous survey's answers cannot be traced to a voter.
CREATE TABLE assess_voters (
    survey_id BIGINT NOT NULL REFERENCES assess_surveys (id) ON DELETE CASCADE,
    voter     TEXT NOT NULL,
    PRIMARY KEY (survey_id, voter)
);

-- One response: resident_id only when the survey is not anonymous.
-- area_path is the respondent's grid, for results by area; day (not the
-- instant) is kept, so that an anonymous response is not matched to a
-- log line by its time.
CREATE TABLE assess_responses (
    id          {{id}},
    survey_id   BIGINT NOT NULL REFERENCES assess_surveys (id) ON DELETE CASCADE,
    area_path   {{ctext}} NOT NULL,
    resident_id BIGINT,
    channel     TEXT NOT NULL CHECK (channel IN ('online', 'paper')),
    day         TEXT NOT NULL
);
CREATE INDEX assess_responses_survey ON assess_responses (survey_id, area_path);
CREATE INDEX assess_responses_area ON assess_responses (area_path, day);

-- An answer: choices a JSON array of option indexes, rating 1–5, text.
CREATE TABLE assess_answers (
    response_id BIGINT NOT NULL REFERENCES assess_responses (id) ON DELETE CASCADE,
    question_id BIGINT NOT NULL REFERENCES assess_questions (id) ON DELETE CASCADE,
    choices     TEXT NOT NULL DEFAULT '[]',
    rating      INTEGER CHECK (rating BETWEEN 1 AND 5),
    body        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (response_id, question_id)
);
CREATE INDEX assess_answers_question ON assess_answers (question_id, rating);

-- 考核周期: a scorecard period of a street, from day to day (inclusive).
CREATE TABLE assess_periods (
    id         {{id}},
    area_id    BIGINT NOT NULL REFERENCES areas (id),
    area_path  {{ctext}} NOT NULL,
    code       TEXT NOT NULL,
    from_day   TEXT NOT NULL,
    to_day     TEXT NOT NULL,
    created_at {{time}} NOT NULL,
    UNIQUE (area_id, code)
);

-- The weights of a period, versioned: a change adds a version and never
-- touches another period's rows, so a period's scorecard is always
-- computed with its own latest version. weights is a JSON object figure →
-- integer weight (adding up to 100).
CREATE TABLE assess_weights (
    period_id  BIGINT NOT NULL REFERENCES assess_periods (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    weights    TEXT NOT NULL,
    set_by     BIGINT,
    created_at {{time}} NOT NULL,
    PRIMARY KEY (period_id, version)
);

-- +goose Down
DROP TABLE assess_weights;
DROP TABLE assess_periods;
DROP TABLE assess_answers;
DROP TABLE assess_responses;
DROP TABLE assess_voters;
DROP TABLE assess_questions;
DROP TABLE assess_surveys;
DROP TABLE assess_certificates;
DROP TABLE assess_handdowns;
DROP TABLE assess_tasks;
