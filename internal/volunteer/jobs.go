package volunteer

import (
	"context"
	"time"

	"github.com/linli/linli/internal/platform/jobs"
)

// Jobs registers the module's recurring work on the runner: daily, stars
// whose notice period has passed are awarded (and newly reached levels put
// on notice) and expired points are written off; every ReminderSweep,
// participants of activities starting within ReminderLead are reminded
// (when Notify is set). Each runs once per interval however many nodes
// run, and each is safe to run again.
func (s *Service) Jobs(r *jobs.Runner) {
	r.Handle("volunteer.stars", func(ctx context.Context, _ jobs.Job) error {
		_, _, err := s.AwardStars(ctx)
		return err
	})
	r.Every("volunteer.stars", 24*time.Hour)
	if s.Notify != nil {
		r.Handle("volunteer.reminders", func(ctx context.Context, _ jobs.Job) error {
			_, err := s.SendReminders(ctx)
			return err
		})
		r.Every("volunteer.reminders", ReminderSweep)
	}
	if s.Config.PointsExpireYears > 0 {
		r.Handle("volunteer.points_expiry", func(ctx context.Context, _ jobs.Job) error {
			_, err := s.ExpirePoints(ctx)
			return err
		})
		r.Every("volunteer.points_expiry", 24*time.Hour)
	}
}
