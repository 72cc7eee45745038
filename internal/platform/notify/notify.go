// Package notify tells people and systems about changes: an in-app inbox
// for staff (always), and signed webhooks to another system (when
// configured). Messages are queued as jobs in the transaction of the
// change, so a notification goes out if and only if the change committed;
// delivery outside the database is at least once, with the event's id for
// the receiver to drop duplicates.
package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/jobs"
)

// Message is one notification.
type Message struct {
	ID      string         `json:"id"`   // unique: the receiver's key for duplicates
	Kind    string         `json:"kind"` // e.g. "case.dispatch"
	Key     string         `json:"key"`  // i18n message key for people
	Args    []any          `json:"args"` // its arguments
	Link    string         `json:"link"` // where to look, relative to the site
	Data    map[string]any `json:"data"` // for systems: number, state, …
	At      time.Time      `json:"at"`
	UserIDs []int64        `json:"-"` // inbox recipients
}

// Notifier queues messages.
type Notifier struct {
	db      *db.DB
	webhook string
	secret  []byte
	client  *http.Client
}

// New returns a notifier; webhookURL may be empty (no webhook).
func New(d *db.DB, webhookURL, secret string) *Notifier {
	return &Notifier{db: d, webhook: webhookURL, secret: []byte(secret), client: &http.Client{Timeout: 10 * time.Second}}
}

// Send puts m into the inboxes of its users and queues the webhook, in the
// transaction of ctx.
func (n *Notifier) Send(ctx context.Context, m Message) error {
	if n == nil {
		return nil
	}
	args, err := json.Marshal(m.Args)
	if err != nil {
		return err
	}
	q := n.db.Q(ctx)
	for _, uid := range m.UserIDs {
		if _, err := q.ExecContext(ctx, `INSERT INTO notifications (user_id, kind, msg_key, args, link, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, uid, m.Kind, m.Key, string(args), m.Link, m.At.UTC()); err != nil {
			return err
		}
	}
	if n.webhook == "" {
		return nil
	}
	payload, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return jobs.Enqueue(ctx, n.db, jobs.Job{Kind: "notify.webhook", Key: "webhook:" + m.ID, Payload: payload})
}

// Jobs registers the webhook delivery, outside any transaction.
func (n *Notifier) Jobs(r *jobs.Runner) {
	r.HandleExternal("notify.webhook", func(ctx context.Context, j jobs.Job) error { return n.post(ctx, j.Payload) })
}

// Signature is the header value a receiver checks: the HMAC-SHA256 of the
// body with the shared secret.
func Signature(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func (n *Notifier) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.webhook, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Linli-Signature", Signature(n.secret, body))
	res, err := n.client.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode >= 300 {
		return fmt.Errorf("webhook answered %s", res.Status)
	}
	return nil
}

// Item is a message in a user's inbox.
type Item struct {
	ID     int64
	Kind   string
	Key    string
	Args   []any
	Link   string
	At     time.Time
	Unread bool
}

// Inbox returns a user's newest messages.
func (n *Notifier) Inbox(ctx context.Context, userID int64, limit int) ([]Item, error) {
	return db.All(ctx, n.db.Q(ctx), func(row db.Scanner) (Item, error) {
		var it Item
		var args string
		var read *time.Time
		if err := row.Scan(&it.ID, &it.Kind, &it.Key, &args, &it.Link, &it.At, &read); err != nil {
			return it, err
		}
		it.Unread = read == nil
		return it, json.Unmarshal([]byte(args), &it.Args)
	}, "SELECT id, kind, msg_key, args, link, created_at, read_at FROM notifications WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
		userID, limit)
}

// Unread counts a user's unread messages.
func (n *Notifier) Unread(ctx context.Context, userID int64) (int, error) {
	var c int
	err := n.db.Q(ctx).QueryRowContext(ctx, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL", userID).Scan(&c)
	return c, err
}

// MarkRead marks all of a user's messages read.
func (n *Notifier) MarkRead(ctx context.Context, userID int64, now time.Time) error {
	return n.db.Write(ctx, func(ctx context.Context) error {
		_, err := n.db.Q(ctx).ExecContext(ctx, "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL", now.UTC(), userID)
		return err
	})
}
