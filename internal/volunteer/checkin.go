package volunteer

import (
	"context"
	"crypto/hmac"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/geo"
)

// A check-in code is "activity.expiry.mac": the activity id, the Unix
// second it expires, and a keyed MAC of both (the box's HMAC-SHA256 blind
// index under its own field name). The organiser's phone shows it as a QR
// code at the site and renews it; a code copied and sent away expires, and
// one made up or altered does not verify.

// Token is a check-in code with its expiry.
type Token struct {
	Code      string    `json:"code"`
	ExpiresAt time.Time `json:"expires_at"`
}

// CheckinToken issues a fresh check-in code for an activity, to its
// organiser.
func (s *Service) CheckinToken(ctx context.Context, activityID int64) (Token, error) {
	if _, err := auth.Require(ctx, auth.VolunteerManage); err != nil {
		return Token{}, err
	}
	if _, err := s.activityFor(ctx, activityID, auth.VolunteerManage); err != nil {
		return Token{}, err
	}
	exp := s.now().Add(s.Config.TokenTTL).Truncate(time.Second)
	return Token{Code: s.signToken(activityID, exp.Unix()), ExpiresAt: exp}, nil
}

func (s *Service) signToken(activityID, exp int64) string {
	payload := strconv.FormatInt(activityID, 10) + "." + strconv.FormatInt(exp, 10)
	return payload + "." + s.box.Index(fieldCheckin, payload)
}

// readToken checks a code's MAC and expiry and returns its activity.
func (s *Service) readToken(code string) (int64, error) {
	parts := strings.Split(strings.TrimSpace(code), ".")
	if len(parts) != 3 {
		return 0, errs.OnField("code", "err.volunteer.code_bad")
	}
	want := s.box.Index(fieldCheckin, parts[0]+"."+parts[1])
	if !hmac.Equal([]byte(strings.ToLower(parts[2])), []byte(want)) {
		return 0, errs.OnField("code", "err.volunteer.code_bad")
	}
	id, err1 := strconv.ParseInt(parts[0], 10, 64)
	exp, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errs.OnField("code", "err.volunteer.code_bad")
	}
	if s.now().Unix() > exp {
		return 0, errs.OnField("code", "err.volunteer.code_expired")
	}
	return id, nil
}

// Position is where the phone is, in WGS84.
type Position struct {
	Lon float64 `json:"lon"`
	Lat float64 `json:"lat"`
}

// CheckIn checks the logged-in participant in by the code shown at the
// site: the code must be valid, the time within the activity's window, the
// phone near the site, and a high-risk activity insured.
func (s *Service) CheckIn(ctx context.Context, code string, at Position) (Signup, error) {
	return s.scan(ctx, code, at, true)
}

// CheckOut checks the logged-in participant out by the code.
func (s *Service) CheckOut(ctx context.Context, code string, at Position) (Signup, error) {
	return s.scan(ctx, code, at, false)
}

func (s *Service) scan(ctx context.Context, code string, at Position, in bool) (Signup, error) {
	if _, err := caller(ctx); err != nil {
		return Signup{}, err
	}
	activityID, err := s.readToken(code)
	if err != nil {
		return Signup{}, err
	}
	x, err := s.loadActivity(ctx, activityID)
	if err != nil {
		return Signup{}, err
	}
	if err := s.checkPlace(x, at); err != nil {
		return Signup{}, err
	}
	who, err := s.participantFor(ctx, x.Audience)
	if err != nil {
		return Signup{}, err
	}
	var id int64
	err = s.db.Write(ctx, func(ctx context.Context) error {
		if err := s.db.Q(ctx).QueryRowContext(ctx, "SELECT id FROM volunteer_signups WHERE activity_id = $1 AND participant = $2",
			activityID, who.key).Scan(&id); err != nil {
			return errs.OnField("code", "err.volunteer.not_signed_up")
		}
		return s.stamp(ctx, x, id, s.now().UTC(), in, "qr")
	})
	if err != nil {
		return Signup{}, err
	}
	return s.loadSignup(ctx, id)
}

// checkPlace refuses a position farther from the site than the
// configured radius.
func (s *Service) checkPlace(x Activity, at Position) error {
	if at.Lon == 0 && at.Lat == 0 {
		return errs.OnField("lon", "err.volunteer.position_missing")
	}
	d := geo.Distance(orb.Point{at.Lon, at.Lat}, orb.Point{x.Lon, x.Lat})
	if d > s.Config.CheckinRadius {
		return errs.OnField("lon", "err.volunteer.too_far", int(d), int(s.Config.CheckinRadius))
	}
	return nil
}

// stamp records a check-in or check-out at t on a sign-up, within the
// activity's window: check-in from CheckinSlack before the start to the
// end, check-out after the check-in until CheckinSlack after the end. A
// high-risk activity without insurance cannot start.
func (s *Service) stamp(ctx context.Context, x Activity, signupID int64, t time.Time, in bool, method string) error {
	g, err := s.loadSignup(ctx, signupID)
	if err != nil {
		return err
	}
	if g.ActivityID != x.ID {
		return errs.E(errs.NotFound, "err.volunteer.signup_not_found", signupID)
	}
	if x.Risk == "high" && !x.Insured {
		return errs.OnField("insurance", "err.volunteer.uninsured")
	}
	if g.Status != "confirmed" && !(g.Status == "signed" && x.Audience == ForResidents) {
		return errs.TakenOnField("status", "err.volunteer.not_confirmed")
	}
	column, err := s.checkStamp(g, x, t, in)
	if err != nil {
		return err
	}
	// The IS NULL condition makes a second, concurrent scan change nothing.
	res, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE volunteer_signups SET "+column+" = $1, check_method = $2 WHERE id = $3 AND "+column+" IS NULL",
		t, method, signupID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.TakenOnField(column, "err.volunteer.stamped_already")
	}
	return s.record(ctx, "signup."+column, "volunteer_signup", signupID, method)
}

// checkStamp says which column a check-in (in) or check-out at t sets,
// or why it may not.
func (s *Service) checkStamp(g Signup, x Activity, t time.Time, in bool) (string, error) {
	slack := s.Config.CheckinSlack
	if in {
		const column = "checked_in_at"
		if t.Before(x.StartsAt.Add(-slack)) || t.After(x.EndsAt) {
			return "", errs.OnField(column, "err.volunteer.outside_window", localTime(x.StartsAt.Add(-slack)), localTime(x.EndsAt))
		}
		if g.CheckedInAt != nil {
			return "", errs.TakenOnField(column, "err.volunteer.checked_in")
		}
		return column, nil
	}
	const column = "checked_out_at"
	if g.CheckedInAt == nil {
		return "", errs.OnField(column, "err.volunteer.not_checked_in")
	}
	if !t.After(*g.CheckedInAt) || t.After(x.EndsAt.Add(slack)) {
		return "", errs.OnField(column, "err.volunteer.outside_window", localTime(*g.CheckedInAt), localTime(x.EndsAt.Add(slack)))
	}
	if g.CheckedOutAt != nil {
		return "", errs.TakenOnField(column, "err.volunteer.checked_out")
	}
	return column, nil
}

func localTime(t time.Time) string { return t.In(chinaTime).Format("2006-01-02 15:04") }

// StampInput is the organiser's record of a check-in or check-out, for a
// participant without a phone. At is empty for now.
type StampInput struct {
	In bool   `json:"in"`
	At string `json:"at"`
}

// Stamp records a check-in or check-out by the organiser.
func (s *Service) Stamp(ctx context.Context, signupID int64, in StampInput) (Signup, error) {
	t := s.now().UTC()
	if in.At != "" {
		var ok bool
		if t, ok = parseTime(in.At); !ok {
			return Signup{}, errs.OnField("at", "err.volunteer.time")
		}
		if t.After(s.now()) {
			return Signup{}, errs.OnField("at", "err.volunteer.future")
		}
	}
	err := s.db.Write(ctx, func(ctx context.Context) error {
		_, x, err := s.organiserSignup(ctx, signupID)
		if err != nil {
			return err
		}
		return s.stamp(ctx, x, signupID, t, in.In, "organiser")
	})
	if err != nil {
		return Signup{}, err
	}
	return s.loadSignup(ctx, signupID)
}

// Credit confirms a volunteer's hours for an activity: the time between
// check-in and check-out within the activity's window, or the minutes the
// organiser gives, never more than the activity's cap. It writes the
// hours entry, the points earned and (for time-bank activities) the coins,
// once per sign-up.
func (s *Service) Credit(ctx context.Context, signupID int64, minutes int) (Signup, error) {
	err := s.db.Write(ctx, func(ctx context.Context) error {
		g, x, err := s.organiserSignup(ctx, signupID)
		if err != nil {
			return err
		}
		if g.VolunteerID == 0 {
			return errs.OnField("signup_id", "err.volunteer.not_a_volunteer")
		}
		if minutes, err = s.creditable(g, x, minutes); err != nil {
			return err
		}
		if err := s.setSignup(ctx, signupID, "credited", "confirmed"); err != nil {
			return err
		}
		if _, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE volunteer_signups SET credited_minutes = $1 WHERE id = $2", minutes, signupID); err != nil {
			return err
		}
		return s.creditLedgers(ctx, g, x, minutes)
	})
	if err != nil {
		return Signup{}, err
	}
	return s.loadSignup(ctx, signupID)
}

// creditable is the minutes to credit: given ones must lie between 1 and
// the cap; else the checked time, capped. A sign-up not checked in and out
// needs the organiser's minutes.
func (s *Service) creditable(g Signup, x Activity, given int) (int, error) {
	if given != 0 {
		if given < 1 || given > x.CapMinutes {
			return 0, errs.OnField("minutes", "err.volunteer.minutes", x.CapMinutes)
		}
		return given, nil
	}
	if g.CheckedInAt == nil || g.CheckedOutAt == nil {
		return 0, errs.OnField("minutes", "err.volunteer.minutes_needed")
	}
	start, end := maxTime(*g.CheckedInAt, x.StartsAt), minTime(*g.CheckedOutAt, x.EndsAt)
	m := int(end.Sub(start) / time.Minute)
	if m < 1 {
		return 0, errs.OnField("minutes", "err.volunteer.minutes_needed")
	}
	return min(m, x.CapMinutes), nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// creditLedgers writes what a confirmed service earns.
func (s *Service) creditLedgers(ctx context.Context, g Signup, x Activity, minutes int) error {
	e := hoursEntry{volunteerID: g.VolunteerID, kind: "credit", minutes: minutes, signupID: g.ID, activityID: x.ID, serviceKind: x.Kind}
	if err := s.addHours(ctx, e); err != nil {
		return err
	}
	if err := s.earnPoints(ctx, g, x, minutes); err != nil {
		return err
	}
	if x.TimeBank && s.Config.TimeBank && g.ResidentID != 0 {
		v, err := s.loadVolunteer(ctx, g.VolunteerID)
		if err != nil {
			return err
		}
		return s.addCoins(ctx, coinEntry{residentID: g.ResidentID, areaPath: v.AreaPath, kind: "deposit", minutes: minutes, signupID: g.ID,
			reason: fmt.Sprintf("#%d", x.ID)})
	}
	return nil
}
