package volunteer

import (
	"context"
	"strings"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
)

// Insurance is the accident insurance of an activity (志愿服务条例
// Art. 17), which a high-risk activity needs before anyone checks in: the
// insurer, the policy number and the days of cover (YYYY-MM-DD, China
// time), which must include the activity's days.
type Insurance struct {
	Insurer string `json:"insurer"`
	// Policy is the policy number; "insurance" in JSON, its name since
	// the first version of the API.
	Policy string `json:"insurance"`
	From   string `json:"covered_from"`
	To     string `json:"covered_to"`
}

// validate checks the fields on their own; covers checks them against the
// activity.
func (in *Insurance) validate() error {
	in.Insurer, in.Policy = strings.TrimSpace(in.Insurer), strings.TrimSpace(in.Policy)
	in.From, in.To = strings.TrimSpace(in.From), strings.TrimSpace(in.To)
	var v errs.Validation
	v.Check(in.Insurer != "" && textOK(in.Insurer, 60), "insurer", "err.volunteer.insurer")
	v.Check(in.Policy != "" && textOK(in.Policy, 60), "insurance", "err.volunteer.insurance")
	_, okFrom := parseDay(in.From)
	_, okTo := parseDay(in.To)
	v.Check(okFrom, "covered_from", "err.volunteer.cover_date")
	v.Check(okTo, "covered_to", "err.volunteer.cover_date")
	if okFrom && okTo {
		v.Check(in.From <= in.To, "covered_to", "err.volunteer.cover_order")
	}
	return v.Err()
}

// covers refuses a period of cover that leaves out a day of the activity.
func (in Insurance) covers(x Activity) error {
	first, last := x.StartsAt.In(chinaTime).Format(time.DateOnly), x.EndsAt.In(chinaTime).Format(time.DateOnly)
	if in.From > first || in.To < last {
		return errs.OnField("covered_to", "err.volunteer.cover_short", first, last)
	}
	return nil
}

func parseDay(s string) (time.Time, bool) {
	t, err := time.ParseInLocation(time.DateOnly, s, chinaTime)
	return t, err == nil
}

// RecordInsurance records (or replaces) the insurance of an activity, for
// its organiser; the change is audited.
func (s *Service) RecordInsurance(ctx context.Context, id int64, in Insurance) (Activity, error) {
	if _, err := auth.Require(ctx, auth.VolunteerManage); err != nil {
		return Activity{}, err
	}
	if err := in.validate(); err != nil {
		return Activity{}, err
	}
	err := s.db.Write(ctx, func(ctx context.Context) error {
		x, err := s.activityFor(ctx, id, auth.VolunteerManage)
		if err != nil {
			return err
		}
		if err := in.covers(x); err != nil {
			return err
		}
		if _, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE volunteer_activities SET insurance = $1, insurer = $2, insured_from = $3, insured_to = $4
			WHERE id = $5`, in.Policy, in.Insurer, in.From, in.To, id); err != nil {
			return err
		}
		return s.record(ctx, "activity.insurance", "volunteer_activity", id, in.Insurer+" "+in.Policy)
	})
	if err != nil {
		return Activity{}, err
	}
	return s.loadActivity(ctx, id)
}

// InsuranceOf returns the insurance recorded for an activity, to those who
// may read its community's volunteers; empty fields when none is.
func (s *Service) InsuranceOf(ctx context.Context, id int64) (Insurance, error) {
	if _, err := s.activityFor(ctx, id, auth.VolunteerRead); err != nil {
		return Insurance{}, err
	}
	var in Insurance
	err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT insurer, insurance, insured_from, insured_to FROM volunteer_activities WHERE id = $1", id).
		Scan(&in.Insurer, &in.Policy, &in.From, &in.To)
	return in, err
}
