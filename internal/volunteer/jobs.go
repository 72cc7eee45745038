package volunteer

import (
	"context"
	"time"

	"github.com/linli/linli/internal/platform/jobs"
)

// Jobs registers the module's daily work on the runner: stars whose
// notice period has passed are awarded (and newly reached levels put on
// notice), and expired points are written off. Both run once a day
// however many nodes run, and both are safe to run again.
func (s *Service) Jobs(r *jobs.Runner) {
	r.Handle("volunteer.stars", func(ctx context.Context, _ jobs.Job) error {
		_, _, err := s.AwardStars(ctx)
		return err
	})
	r.Every("volunteer.stars", 24*time.Hour)
	if s.Config.PointsExpireYears > 0 {
		r.Handle("volunteer.points_expiry", func(ctx context.Context, _ jobs.Job) error {
			_, err := s.ExpirePoints(ctx)
			return err
		})
		r.Every("volunteer.points_expiry", 24*time.Hour)
	}
}
