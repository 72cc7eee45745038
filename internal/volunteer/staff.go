package volunteer

import (
	"context"
	"strings"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// CancelActivity cancels a published activity that has not ended, with
// a reason; its open sign-ups (signed or confirmed, not yet checked in)
// are cancelled with it, and their holders told in their inboxes. Hours
// already credited stay in the ledger.
func (s *Service) CancelActivity(ctx context.Context, id int64, reason string) error {
	if _, err := auth.Require(ctx, auth.VolunteerManage); err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || !textOK(reason, 200) {
		return errs.OnField("reason", "err.volunteer.cancel_reason")
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		x, err := s.activityFor(ctx, id, auth.VolunteerManage)
		if err != nil {
			return err
		}
		if x.Status != "published" {
			return errs.TakenOnField("status", "err.volunteer.activity_cancelled")
		}
		if !x.EndsAt.After(s.now()) {
			return errs.TakenOnField("status", "err.volunteer.cancel_ended")
		}
		res, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE volunteer_activities SET status = 'cancelled' WHERE id = $1 AND status = 'published'", id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.TakenOnField("status", "err.volunteer.activity_cancelled")
		}
		if err := s.tellCancelled(ctx, id); err != nil {
			return err
		}
		if _, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE volunteer_signups SET status = 'cancelled'
			WHERE activity_id = $1 AND status IN ('signed', 'confirmed') AND checked_in_at IS NULL`, id); err != nil {
			return err
		}
		return s.record(ctx, "activity.cancel", "volunteer_activity", id, reason)
	})
}

// UpdateOrg changes an organisation's name, kind, status, leader, founding
// date and description; the contact is kept when none is given.
func (s *Service) UpdateOrg(ctx context.Context, id int64, in OrgInput) (Org, error) {
	if _, err := auth.Require(ctx, auth.VolunteerManage); err != nil {
		return Org{}, err
	}
	if err := in.validate(); err != nil {
		return Org{}, err
	}
	err := s.db.Write(ctx, func(ctx context.Context) error {
		if _, err := s.orgFor(ctx, id, auth.VolunteerManage); err != nil {
			return err
		}
		q := `UPDATE volunteer_orgs SET name = $1, kind = $2, status = $3, leader = $4, founded = $5, description = $6, updated_at = $7`
		args := []any{in.Name, string(in.Kind), string(in.Status), in.Leader, in.Founded, in.Description, s.now().UTC()}
		if in.Contact != "" {
			q += ", contact_enc = $9"
			args = append(args, id, s.box.Seal(fieldOrgContact, in.Contact))
		} else {
			args = append(args, id)
		}
		_, err := s.db.Q(ctx).ExecContext(ctx, q+" WHERE id = $8", args...)
		if db.IsUnique(err) && in.Kind == Party {
			return errs.TakenOnField("kind", "err.volunteer.party_exists")
		}
		if db.IsUnique(err) {
			return errs.TakenOnField("name", "err.volunteer.org_taken", in.Name)
		}
		if err != nil {
			return err
		}
		return s.record(ctx, "org.update", "volunteer_org", id, string(in.Status))
	})
	if err != nil {
		return Org{}, err
	}
	return s.Org(ctx, id)
}

// Rules lists the points rules, the default ("") first.
func (s *Service) Rules(ctx context.Context) ([]Rule, error) {
	if _, err := auth.Require(ctx, auth.VolunteerRead); err != nil {
		return nil, err
	}
	return db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (Rule, error) {
		var x Rule
		return x, r.Scan(&x.Kind, &x.PerHour, &x.PerActivity, &x.Cap)
	}, "SELECT kind, per_hour, per_activity, cap FROM volunteer_point_rules ORDER BY kind")
}
