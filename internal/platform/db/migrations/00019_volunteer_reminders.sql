-- Volunteers (issue #9, continued): reminders before an activity, notices
-- of a cancelled one, and the details of an activity's accident insurance.
--
-- volunteer_signups.user_id is the account that signed up, so that a
-- resident at a residents' event, who need not be a volunteer, can be told
-- too; sign-ups made before this migration fall back to the volunteer's
-- account.
--
-- volunteer_signup_notices records each message sent about a sign-up. Its
-- primary key makes each kind at most once per sign-up: the sender inserts
-- the row in the transaction that puts the message in the inbox, and a
-- second sender (another node, a job run again) inserts nothing and sends
-- nothing.
--
-- The insurance of a high-risk activity (志愿服务条例 Art. 17) is its
-- insurer, policy number (the existing insurance column) and period of
-- cover, as dates (YYYY-MM-DD, China time).

-- +goose Up
ALTER TABLE volunteer_signups ADD COLUMN user_id BIGINT;

CREATE TABLE volunteer_signup_notices (
    signup_id BIGINT NOT NULL REFERENCES volunteer_signups (id),
    kind      TEXT NOT NULL CHECK (kind IN ('reminder', 'cancelled')),
    sent_at   {{time}} NOT NULL,
    PRIMARY KEY (signup_id, kind)
);

ALTER TABLE volunteer_activities ADD COLUMN insurer TEXT NOT NULL DEFAULT '';
ALTER TABLE volunteer_activities ADD COLUMN insured_from TEXT NOT NULL DEFAULT '';
ALTER TABLE volunteer_activities ADD COLUMN insured_to TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE volunteer_activities DROP COLUMN insured_to;
ALTER TABLE volunteer_activities DROP COLUMN insured_from;
ALTER TABLE volunteer_activities DROP COLUMN insurer;
DROP TABLE volunteer_signup_notices;
ALTER TABLE volunteer_signups DROP COLUMN user_id;
