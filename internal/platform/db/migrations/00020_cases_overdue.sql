-- The open cases past their deadline (督办), for the linli_cases_overdue
-- gauge: a partial index holds only them, so counting them at each metrics
-- scrape reads as many entries as there are overdue cases, not the
-- district's ten million closed ones.

-- +goose Up
CREATE INDEX cases_overdue_open ON cases (area_id) WHERE overdue AND closed_at IS NULL AND state <> 'merged';

-- +goose Down
DROP INDEX cases_overdue_open;
