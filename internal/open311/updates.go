package open311

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/linli/linli/internal/cases"
	"github.com/linli/linli/internal/platform/audit"
)

// mySociety's servicerequestupdates: GET lists the public moves of the
// public cases as updates, POST takes a client's comment on a request.

// updateStatuses are the statuses a client may post (FixMyStreet sends
// them in upper case; CANCELLED is FixMyStreet's too).
var updateStatuses = []string{"OPEN", "CLOSED", "FIXED", "IN_PROGRESS", "ACTION_SCHEDULED", "INVESTIGATING", "DUPLICATE",
	"NOT_COUNCILS_RESPONSIBILITY", "NO_FURTHER_ACTION", "INTERNAL_REFERRAL", "REOPEN", "FOR_TRIAGE", "CANCELLED"}

// maxUpdates caps one GET of updates.
const maxUpdates = 1000

// listUpdates answers GET servicerequestupdates.{fmt}: by default the last
// 24 hours (FixMyStreet asks for the last two).
func (s *Server) listUpdates(c *call) error {
	if _, err := s.jurisdiction(c); err != nil {
		return err
	}
	from, to, err := s.window(c.form, 24*time.Hour)
	if err != nil {
		return err
	}
	ups, err := s.cases.PublicUpdates(c.r.Context(), from, to, maxUpdates)
	if err != nil {
		return err
	}
	out := make([]update, len(ups))
	items := make([]any, len(ups))
	for i, u := range ups {
		desc := u.Note
		if desc == "" {
			desc = s.catalg.T(c.lang, "cases.action."+string(u.Action))
		}
		out[i] = update{UpdateID: strconv.FormatInt(u.ID, 10), ID: u.Number, Status: StatusOf(u.State).Extended,
			Updated: w3c(u.At), Description: desc, ExternalStatusCode: string(u.Action)}
		if u.Action == cases.ActReject {
			out[i].Status = "not_councils_responsibility"
		}
		items[i] = out[i]
	}
	write(c.w, c.f, http.StatusOK, updatesXML{Updates: items}, out)
	return nil
}

// postUpdate answers POST servicerequestupdates.{fmt}: the comment
// becomes a note on the case for staff, with the client's status and
// author; it moves nothing in the loop, which staff run. A retry of an
// update_id already taken from this key is answered as the first time.
func (s *Server) postUpdate(c *call) error {
	ctx := c.r.Context()
	f := c.form
	key, err := s.poster(c)
	if err != nil {
		return err
	}
	if _, err := s.jurisdiction(c); err != nil {
		return err
	}
	p := &problem{status: http.StatusBadRequest}
	need := func(name string) string {
		v := f.get(name)
		if v == "" {
			p.add("required", name)
		}
		return v
	}
	number, updateID, status, at := need("service_request_id"), need("update_id"), need("status"), need("updated_datetime")
	desc := strings.TrimSpace(strings.ReplaceAll(f.get("description"), "\r\n", "\n"))
	if status != "" && !slices.Contains(updateStatuses, strings.ToUpper(status)) {
		p.add("update_status", trimForError(status), strings.Join(updateStatuses, ", "))
	}
	if at != "" {
		if _, err := parseTime("updated_datetime", at); err != nil {
			p.faults = append(p.faults, err.(*problem).faults...)
		}
	}
	if utf8.RuneCountInString(desc) > cases.MaxDescription || utf8.RuneCountInString(updateID) > maxIDLen {
		p.add("update_long")
	}
	if len(p.faults) > 0 {
		return p
	}
	if prior, ok, err := s.postedUpdate(ctx, key.ID, updateID); err != nil || ok {
		if err != nil {
			return err
		}
		return s.answerPosted(c, prior)
	}
	if _, err := s.cases.PublicGet(ctx, number); err != nil {
		return fail(http.StatusNotFound, "request", trimForError(number))
	}
	author := strings.TrimSpace(f.get("first_name") + " " + strings.Trim(f.get("last_name"), "-"))
	text := strings.ToUpper(status)
	if desc != "" {
		text += ": " + desc
	}
	if author != "" {
		text += " (" + author + ")"
	}
	for _, m := range f.all("media_url") {
		text += "\n" + trimForError(m)
	}
	eventID, err := s.cases.AddPublicNote(ctx, number, text, "open311:"+key.Name)
	if err != nil {
		return err
	}
	if err := s.db.Write(ctx, func(ctx context.Context) error {
		_, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO open311_posted_updates (key_id, update_id, event_id) VALUES ($1, $2, $3)
			ON CONFLICT (key_id, update_id) DO NOTHING`, key.ID, updateID, eventID)
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "open311.update", TargetType: "case", TargetID: number,
			Actor:  &audit.Actor{Name: "open311:" + key.Name, IP: audit.ActorFrom(ctx).IP, RequestID: audit.ActorFrom(ctx).RequestID},
			Detail: "update_id " + trimForError(updateID)})
	}); err != nil {
		return err
	}
	return s.answerPosted(c, eventID)
}

func (s *Server) postedUpdate(ctx context.Context, keyID int64, updateID string) (int64, bool, error) {
	var id int64
	err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT event_id FROM open311_posted_updates WHERE key_id = $1 AND update_id = $2",
		keyID, updateID).Scan(&id)
	if isNoRows(err) {
		return 0, false, nil
	}
	return id, err == nil, err
}

func (s *Server) answerPosted(c *call, eventID int64) error {
	out := postedUpdate{UpdateID: strconv.FormatInt(eventID, 10)}
	write(c.w, c.f, http.StatusOK, updatesXML{Updates: []any{out}}, []postedUpdate{out})
	return nil
}
