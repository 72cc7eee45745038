-- The index on the reporter's phone blind index (cases_phone, 00004)
-- becomes partial: every report wrote an entry at a random place in it
-- (the blind index is an HMAC), one more B-tree page changed, journalled
-- and synced per case on the intake path, also for the many reports that
-- leave no phone. Those no longer pay for it; the reports with a phone
-- keep it, for the hotline operator's "has this caller reported before?".

-- +goose Up
DROP INDEX cases_phone;
CREATE INDEX cases_phone ON cases (reporter_phone_idx) WHERE reporter_phone_idx <> '';

-- +goose Down
DROP INDEX cases_phone;
CREATE INDEX cases_phone ON cases (reporter_phone_idx);
