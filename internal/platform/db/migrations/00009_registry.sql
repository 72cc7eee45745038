-- The register of a grid (人、地、事、物、组织): buildings and rooms with
-- standard addresses, households, residents and their rooms (人房关联),
-- special groups with care levels, places and organisations, public
-- components (部件), visits (走访) and patrols (巡查).
--
-- Every object carries area_id, the grid it lies in: that column is what
-- scopes who sees it (auth.Principal.Filter). Personal data that must stay
-- secret at rest (ID numbers, phone numbers) is sealed (*_enc) with a keyed
-- blind index (*_idx) for exact search; names are kept plain in a
-- normalised column (name_key) so that a name-prefix search uses an index.
-- Residents also keep their grid's area path, for the same reason.

-- +goose Up
-- Care levels and how often someone at that level is visited. The three
-- rows follow the common provincial rule (high risk weekly, priority
-- monthly, general quarterly); every_days is what a deployment tunes.
CREATE TABLE registry_care_levels (
    code       TEXT PRIMARY KEY,
    level_rank INTEGER NOT NULL,
    name_zh    TEXT NOT NULL,
    name_en    TEXT NOT NULL,
    every_days INTEGER NOT NULL CHECK (every_days > 0)
);
INSERT INTO registry_care_levels (code, level_rank, name_zh, name_en, every_days) VALUES
    ('high', 3, '高风险', 'High risk', 7),
    ('priority', 2, '重点', 'Priority', 30),
    ('general', 1, '一般', 'General', 91);

-- Special groups (特殊人群 / 关爱对象): a configurable list. care_level is
-- the level a resident in the group gets unless staff set another.
CREATE TABLE registry_groups (
    code       TEXT PRIMARY KEY,
    name_zh    TEXT NOT NULL,
    name_en    TEXT NOT NULL,
    care_level TEXT NOT NULL DEFAULT '' ,
    sort       INTEGER NOT NULL DEFAULT 0,
    active     BOOLEAN NOT NULL DEFAULT TRUE
);
INSERT INTO registry_groups (code, name_zh, name_en, care_level, sort) VALUES
    ('elderly_alone', '独居老人', 'Older person living alone', 'high', 10),
    ('empty_nest', '空巢老人', 'Older person whose children live away', 'priority', 20),
    ('disabled_care', '失能', 'Unable to care for themselves', 'high', 30),
    ('disability', '残疾人', 'Person with a disability', 'priority', 40),
    ('dibao', '低保', 'Minimum living allowance (低保)', 'priority', 50),
    ('tekun', '特困', 'Extreme poverty support (特困)', 'high', 60),
    ('left_behind_child', '留守儿童', 'Left-behind child', 'priority', 70),
    ('child_in_need', '困境儿童', 'Child in difficulty', 'high', 80),
    ('veteran', '退役军人', 'Veteran', 'general', 90);

-- 楼栋: one building of a standard address (街路巷 + 门牌号, in a 小区).
-- address is the whole standard address as shown and searched.
CREATE TABLE registry_buildings (
    id         {{id}},
    area_id    BIGINT NOT NULL REFERENCES areas (id),
    estate     TEXT NOT NULL DEFAULT '',
    road       TEXT NOT NULL,
    door_no    TEXT NOT NULL,
    name       TEXT NOT NULL,
    address    {{ctext}} NOT NULL,
    floors     INTEGER NOT NULL DEFAULT 0,
    units      INTEGER NOT NULL DEFAULT 0,
    lon        DOUBLE PRECISION,
    lat        DOUBLE PRECISION,
    created_at {{time}} NOT NULL,
    updated_at {{time}} NOT NULL,
    UNIQUE (road, door_no, name)
);
CREATE INDEX registry_buildings_area ON registry_buildings (area_id, address);

-- 户室: a room (flat) of a building, by 单元 and 户室号. use is how it is
-- used: 自住 / 出租 / 空置 / 经营.
CREATE TABLE registry_rooms (
    id          {{id}},
    building_id BIGINT NOT NULL REFERENCES registry_buildings (id),
    unit        TEXT NOT NULL DEFAULT '',
    number      TEXT NOT NULL,
    floor       INTEGER NOT NULL DEFAULT 0,
    usage       TEXT NOT NULL DEFAULT 'own' CHECK (usage IN ('own', 'rented', 'vacant', 'business')),
    created_at  {{time}} NOT NULL,
    UNIQUE (building_id, unit, number)
);

-- 户: a household, living in a room (or not yet placed).
CREATE TABLE registry_households (
    id         {{id}},
    area_id    BIGINT NOT NULL REFERENCES areas (id),
    room_id    BIGINT REFERENCES registry_rooms (id),
    number     TEXT NOT NULL DEFAULT '',
    created_at {{time}} NOT NULL
);
CREATE INDEX registry_households_area ON registry_households (area_id);
CREATE INDEX registry_households_room ON registry_households (room_id);

-- 实有人口. id_enc/phone_enc are sealed; id_idx/phone_idx are their blind
-- indexes, unique for ID numbers so that a person is registered once.
-- last_visit_at drives the visit plan: who is due is computed from it and
-- the care level's every_days, so a changed frequency applies at once.
CREATE TABLE registry_residents (
    id            {{id}},
    area_id       BIGINT NOT NULL REFERENCES areas (id),
    area_path     {{ctext}} NOT NULL,
    household_id  BIGINT REFERENCES registry_households (id),
    relation      TEXT NOT NULL DEFAULT '',
    name          TEXT NOT NULL,
    name_key      {{ctext}} NOT NULL,
    sex           TEXT NOT NULL CHECK (sex IN ('m', 'f')),
    birth_date    TEXT NOT NULL,
    id_enc        TEXT NOT NULL,
    id_idx        TEXT NOT NULL UNIQUE,
    phone_enc     TEXT NOT NULL DEFAULT '',
    phone_idx     TEXT NOT NULL DEFAULT '',
    pop_type      TEXT NOT NULL CHECK (pop_type IN ('registered', 'floating', 'overseas')),
    care_level    TEXT NOT NULL DEFAULT '',
    note          TEXT NOT NULL DEFAULT '',
    last_visit_at {{time}},
    created_at    {{time}} NOT NULL,
    updated_at    {{time}} NOT NULL
);
-- Name-prefix search is one range on name_key, listed in (name_key, id)
-- order. A caller with a few grids reads it per grid from (area_id,
-- name_key); a wider caller (a street, a district, everywhere) reads it in
-- list order from (name_key, id, area_path) and filters on the grid's path
-- (copied here from areas, where it never changes) inside the index,
-- stopping at the end of the first page: no sort of every 王 in the street.
CREATE INDEX registry_residents_area_name ON registry_residents (area_id, name_key);
CREATE INDEX registry_residents_name_path ON registry_residents (name_key, id, area_path);
CREATE INDEX registry_residents_phone ON registry_residents (phone_idx);
CREATE INDEX registry_residents_household ON registry_residents (household_id);
CREATE INDEX registry_residents_visits ON registry_residents (area_id, care_level, last_visit_at);

CREATE TABLE registry_resident_groups (
    resident_id BIGINT NOT NULL REFERENCES registry_residents (id) ON DELETE CASCADE,
    group_code  TEXT NOT NULL REFERENCES registry_groups (code),
    PRIMARY KEY (resident_id, group_code)
);
CREATE INDEX registry_resident_groups_code ON registry_resident_groups (group_code);

-- 人房关联: who is linked to which room, how, and since / until when
-- (dates as YYYY-MM-DD; to_date empty while it holds).
CREATE TABLE registry_resident_rooms (
    id          {{id}},
    resident_id BIGINT NOT NULL REFERENCES registry_residents (id) ON DELETE CASCADE,
    room_id     BIGINT NOT NULL REFERENCES registry_rooms (id),
    role        TEXT NOT NULL CHECK (role IN ('owner', 'tenant', 'lives')),
    from_date   TEXT NOT NULL DEFAULT '',
    to_date     TEXT NOT NULL DEFAULT '',
    created_at  {{time}} NOT NULL
);
CREATE INDEX registry_resident_rooms_resident ON registry_resident_rooms (resident_id);
CREATE INDEX registry_resident_rooms_room ON registry_resident_rooms (room_id);

-- 单位/场所/组织: shops, companies, schools, social organisations. The
-- contact person's phone is personal data and sealed like a resident's.
CREATE TABLE registry_places (
    id            {{id}},
    area_id       BIGINT NOT NULL REFERENCES areas (id),
    kind          TEXT NOT NULL CHECK (kind IN ('shop', 'company', 'school', 'social_org', 'other')),
    name          TEXT NOT NULL,
    credit_code   TEXT NOT NULL DEFAULT '',
    address       TEXT NOT NULL DEFAULT '',
    lon           DOUBLE PRECISION,
    lat           DOUBLE PRECISION,
    contact_name  TEXT NOT NULL DEFAULT '',
    contact_phone_enc TEXT NOT NULL DEFAULT '',
    contact_phone_idx TEXT NOT NULL DEFAULT '',
    created_at    {{time}} NOT NULL,
    updated_at    {{time}} NOT NULL
);
CREATE INDEX registry_places_area ON registry_places (area_id, name);

-- Component classes (部件 大类/小类) a code may use; a seed list that a
-- deployment extends with its city's own table.
CREATE TABLE registry_component_classes (
    major   TEXT NOT NULL,
    minor   TEXT NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    PRIMARY KEY (major, minor)
);
INSERT INTO registry_component_classes (major, minor, name_zh, name_en) VALUES
    ('01', '01', '上水井盖', 'Water supply manhole cover'),
    ('01', '02', '污水井盖', 'Sewer manhole cover'),
    ('01', '03', '雨水井盖', 'Storm drain manhole cover'),
    ('01', '04', '雨水篦子', 'Storm drain grate'),
    ('01', '05', '电力井盖', 'Power manhole cover'),
    ('01', '06', '路灯井盖', 'Street light manhole cover'),
    ('01', '07', '通讯井盖', 'Telecom manhole cover'),
    ('01', '08', '燃气井盖', 'Gas manhole cover'),
    ('01', '09', '消火栓', 'Fire hydrant'),
    ('02', '01', '路灯', 'Street light'),
    ('02', '02', '交通标志牌', 'Traffic sign'),
    ('02', '03', '护栏', 'Guard rail'),
    ('03', '01', '垃圾箱', 'Litter bin'),
    ('03', '02', '公共厕所', 'Public toilet'),
    ('03', '03', '垃圾分类站', 'Waste sorting station'),
    ('04', '01', '行道树', 'Street tree'),
    ('04', '02', '绿地', 'Green space'),
    ('06', '01', '健身器材', 'Fitness equipment');

-- 部件: code = 6-digit county + 2 major + 2 minor + 6 serial.
CREATE TABLE registry_components (
    id         {{id}},
    area_id    BIGINT NOT NULL REFERENCES areas (id),
    code       TEXT NOT NULL UNIQUE,
    major      TEXT NOT NULL,
    minor      TEXT NOT NULL,
    name       TEXT NOT NULL DEFAULT '',
    state      TEXT NOT NULL CHECK (state IN ('intact', 'damaged', 'lost', 'occupied')),
    owner      TEXT NOT NULL DEFAULT '',
    lon        DOUBLE PRECISION,
    lat        DOUBLE PRECISION,
    created_at {{time}} NOT NULL,
    updated_at {{time}} NOT NULL,
    FOREIGN KEY (major, minor) REFERENCES registry_component_classes (major, minor)
);
CREATE INDEX registry_components_area ON registry_components (area_id, code);

-- 走访: one visit to a resident. case_number is the case a finding became.
CREATE TABLE registry_visits (
    id          {{id}},
    resident_id BIGINT NOT NULL REFERENCES registry_residents (id) ON DELETE CASCADE,
    area_id     BIGINT NOT NULL REFERENCES areas (id),
    user_id     BIGINT REFERENCES users (id) ON DELETE SET NULL,
    visitor     TEXT NOT NULL,
    at          {{time}} NOT NULL,
    mode        TEXT NOT NULL CHECK (mode IN ('home', 'phone', 'other')),
    place       TEXT NOT NULL DEFAULT '',
    finding     TEXT NOT NULL DEFAULT '',
    case_number TEXT NOT NULL DEFAULT '',
    photo_type  TEXT NOT NULL DEFAULT '',
    photo       {{blob}},
    created_at  {{time}} NOT NULL
);
CREATE INDEX registry_visits_resident ON registry_visits (resident_id, at);
CREATE INDEX registry_visits_area ON registry_visits (area_id, at);

-- 巡查: a patrol through a grid, with its check-in points.
CREATE TABLE registry_patrols (
    id         {{id}},
    area_id    BIGINT NOT NULL REFERENCES areas (id),
    user_id    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    patroller  TEXT NOT NULL,
    started_at {{time}} NOT NULL,
    ended_at   {{time}},
    note       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX registry_patrols_area ON registry_patrols (area_id, started_at);
CREATE TABLE registry_patrol_points (
    id        {{id}},
    patrol_id BIGINT NOT NULL REFERENCES registry_patrols (id) ON DELETE CASCADE,
    at        {{time}} NOT NULL,
    lon       DOUBLE PRECISION NOT NULL,
    lat       DOUBLE PRECISION NOT NULL,
    note      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX registry_patrol_points_patrol ON registry_patrol_points (patrol_id, at);

-- +goose Down
DROP TABLE registry_patrol_points;
DROP TABLE registry_patrols;
DROP TABLE registry_visits;
DROP TABLE registry_components;
DROP TABLE registry_component_classes;
DROP TABLE registry_places;
DROP TABLE registry_resident_rooms;
DROP TABLE registry_resident_groups;
DROP TABLE registry_residents;
DROP TABLE registry_households;
DROP TABLE registry_rooms;
DROP TABLE registry_buildings;
DROP TABLE registry_groups;
DROP TABLE registry_care_levels;
