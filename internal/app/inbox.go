package app

import (
	"net/http"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/web"
)

// inbox shows a staff member's notifications: cases dispatched to their
// unit, overdue, waiting for their decision.
func (a *App) inbox(w http.ResponseWriter, r *http.Request) error {
	p := auth.From(r.Context())
	items, err := a.Notify.Inbox(r.Context(), p.UserID, 100)
	if err != nil {
		return err
	}
	return a.Server.Render(w, r, "inbox", web.PageData{Title: "inbox.title", Data: items})
}

func (a *App) inboxRead(w http.ResponseWriter, r *http.Request) error {
	if err := a.Notify.MarkRead(r.Context(), auth.From(r.Context()).UserID, a.Now()); err != nil {
		return err
	}
	http.Redirect(w, r, "/inbox", http.StatusSeeOther)
	return nil
}
