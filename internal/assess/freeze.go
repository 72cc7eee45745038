package assess

import (
	"context"
	"fmt"
	"strings"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// Closing a period (结账) freezes its card. The figures come from other
// modules, and their data keep arriving after the period: a callback
// logged late, a notice published late, a time limit that passes. While
// the period is open its card follows them; once the street closes it,
// the card of every community is copied in the same transaction, and the
// scorecard, its ranks, its page, its trend point and its Excel export
// read the copy. The weights are frozen with it.

// managed reads a period the caller may manage (close, reopen, weigh).
func (s *Service) managed(ctx context.Context, id int64) (Period, error) {
	p, err := auth.Require(ctx, auth.AssessManage)
	if err != nil {
		return Period{}, err
	}
	per, err := s.period(ctx, id)
	if err != nil {
		return Period{}, err
	}
	return per, auth.Allowed(p, auth.AssessManage, per.path, "err.assess.out_of_scope")
}

// lockOpen takes the period's row for the caller's transaction if the
// period is open: a close and a change of weights of one period are
// ordered, and the later one sees what the first did. Conflict when it is
// closed.
func (s *Service) lockOpen(ctx context.Context, id int64) error {
	res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE assess_periods SET closed_by = closed_by WHERE id = $1 AND closed_at IS NULL`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.TakenOnField("state", "err.assess.period_closed")
	}
	return nil
}

// ClosePeriod closes a period and freezes the card of every community of
// its street as it stands, audited, in one transaction. Errors: NotFound,
// Forbidden, Conflict (closed already).
func (s *Service) ClosePeriod(ctx context.Context, id int64) (Period, error) {
	if _, err := s.managed(ctx, id); err != nil {
		return Period{}, err
	}
	err := s.db.Write(ctx, func(ctx context.Context) error {
		if err := s.lockOpen(ctx, id); err != nil {
			return err
		}
		// Read under the lock: the weights frozen are the latest.
		per, err := s.period(ctx, id)
		if err != nil {
			return err
		}
		card, err := s.compute(ctx, per)
		if err != nil {
			return err
		}
		if err := s.freeze(ctx, card); err != nil {
			return err
		}
		if _, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE assess_periods SET closed_at = $1, closed_by = $2 WHERE id = $3`,
			s.now().UTC(), actorID(ctx), id); err != nil {
			return err
		}
		return s.record(ctx, "assess.period.close", "assess_period", id, per.Code)
	})
	if err != nil {
		return Period{}, errs.Wrap(err, "err.internal")
	}
	return s.period(ctx, id)
}

// ReopenPeriod opens a closed period again, for a reason that is kept on
// the period and audited; the frozen card is dropped and the card follows
// the data again until the next close. Errors: Invalid (no reason),
// NotFound, Forbidden, Conflict (not closed).
func (s *Service) ReopenPeriod(ctx context.Context, id int64, reason string) (Period, error) {
	per, err := s.managed(ctx, id)
	if err != nil {
		return Period{}, err
	}
	var v errs.Validation
	text(&v, "reason", &reason, 500)
	if err := v.Err(); err != nil {
		return Period{}, err
	}
	err = s.db.Write(ctx, func(ctx context.Context) error {
		q := s.db.Q(ctx)
		res, err := q.ExecContext(ctx, `UPDATE assess_periods SET closed_at = NULL, closed_by = NULL, reopened_at = $1, reopen_reason = $2
			WHERE id = $3 AND closed_at IS NOT NULL`, s.now().UTC(), reason, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.TakenOnField("state", "err.assess.period_open")
		}
		for _, table := range []string{"assess_period_figures", "assess_period_cards"} {
			if _, err := q.ExecContext(ctx, "DELETE FROM "+table+" WHERE period_id = $1", id); err != nil {
				return err
			}
		}
		return s.record(ctx, "assess.period.reopen", "assess_period", id, per.Code+": "+reason)
	})
	if err != nil {
		return Period{}, errs.Wrap(err, "err.internal")
	}
	return s.period(ctx, id)
}

// figureCols are the columns of a frozen figure after its keys.
const figureCols = 10

// freeze stores the card: a row per community and one statement for its
// figures.
func (s *Service) freeze(ctx context.Context, card Scorecard) error {
	q := s.db.Q(ctx)
	id := card.Period.ID
	for _, r := range card.Rows {
		if _, err := q.ExecContext(ctx, `INSERT INTO assess_period_cards (period_id, area_id, area_path, code, name, total, rank)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, r.id, r.path, r.Community, r.Name, r.Total, r.Rank); err != nil {
			return err
		}
		values := make([]string, len(r.Figures))
		args := make([]any, 0, figureCols*len(r.Figures))
		for i, f := range r.Figures {
			n := len(args)
			values[i] = fmt.Sprintf("($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10)
			args = append(args, id, r.id, string(f.Key), f.Data, f.Value, f.Score, f.Num, f.Den, f.Weight, f.Rank)
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO assess_period_figures (period_id, area_id, figure, has_data, value, score, num, den, weight, rank)
			VALUES `+strings.Join(values, ", "), args...); err != nil {
			return err
		}
	}
	return nil
}

// frozen reads a closed period's card from its copy. A figure the code
// has learnt since the close shows as "no data" with its weight 0.
func (s *Service) frozen(ctx context.Context, per Period) (Scorecard, error) {
	rows, err := db.All(ctx, s.db.Q(ctx), func(sc db.Scanner) (CardRow, error) {
		var r CardRow
		return r, sc.Scan(&r.id, &r.path, &r.Community, &r.Name, &r.Total, &r.Rank)
	}, `SELECT area_id, area_path, code, name, total, rank FROM assess_period_cards WHERE period_id = $1 ORDER BY rank, code`, per.ID)
	if err != nil {
		return Scorecard{}, err
	}
	type keyed struct {
		area int64
		f    Figure
	}
	figs, err := db.All(ctx, s.db.Q(ctx), func(sc db.Scanner) (keyed, error) {
		var k keyed
		return k, sc.Scan(&k.area, &k.f.Key, &k.f.Data, &k.f.Value, &k.f.Score, &k.f.Num, &k.f.Den, &k.f.Weight, &k.f.Rank)
	}, `SELECT area_id, figure, has_data, value, score, num, den, weight, rank FROM assess_period_figures WHERE period_id = $1`, per.ID)
	if err != nil {
		return Scorecard{}, err
	}
	byArea := map[int64]map[FigureKey]Figure{}
	for _, k := range figs {
		if byArea[k.area] == nil {
			byArea[k.area] = map[FigureKey]Figure{}
		}
		byArea[k.area][k.f.Key] = k.f
	}
	for i := range rows {
		link := sourceLinks(per, rows[i].Community)
		rows[i].Figures = make([]Figure, len(Figures))
		for j, key := range Figures {
			f, ok := byArea[rows[i].id][key]
			if !ok {
				f = Figure{Key: key}
			}
			f.Source = link[key]
			rows[i].Figures[j] = f
		}
	}
	return Scorecard{Period: per, Rows: rows, Worst: worst(rows)}, nil
}

// card is the period's card: frozen once closed, computed while open.
func (s *Service) card(ctx context.Context, per Period) (Scorecard, error) {
	if per.Closed != nil {
		return s.frozen(ctx, per)
	}
	return s.compute(ctx, per)
}
