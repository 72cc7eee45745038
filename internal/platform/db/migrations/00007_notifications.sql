-- The in-app inbox of staff notifications.

-- +goose Up
CREATE TABLE notifications (
    id         {{id}},
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    msg_key    TEXT NOT NULL,
    args       TEXT NOT NULL DEFAULT '[]',
    link       TEXT NOT NULL DEFAULT '',
    created_at {{time}} NOT NULL,
    read_at    {{time}}
);
CREATE INDEX notifications_user ON notifications (user_id, id);

-- +goose Down
DROP TABLE notifications;
