-- The pending case counters are now added in by a loop on every node
-- (cases.Service.FlushStats) instead of a recurring job: the job's pending
-- row, which no runner claims any more, would stay due for ever.
-- +goose Up
DELETE FROM jobs WHERE kind = 'case.stats';

-- +goose Down
SELECT 1;
