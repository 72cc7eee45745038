package volunteer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// The time bank (时间银行, after Beijing's 2022 scheme): service of a
// time-bank activity is deposited as coins (60 minutes = 1 coin) to the
// volunteer's register entry; coins may be given to family members of the
// same household and withdrawn as service received. There is no way to
// turn coins into money, on purpose: the schemes forbid it.

// coinEntry is one row of the time-bank ledger.
type coinEntry struct {
	residentID int64
	areaPath   string
	kind       string // deposit, gift_out, gift_in, withdraw
	minutes    int
	signupID   int64
	otherID    int64
	reason     string
}

// addCoins appends an entry, opening the account on its first deposit,
// and refuses (changing nothing) a balance below zero.
func (s *Service) addCoins(ctx context.Context, e coinEntry) error {
	if _, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO volunteer_timebank_accounts (resident_id, area_path, minutes) VALUES ($1, $2, 0)
		ON CONFLICT (resident_id) DO NOTHING`, e.residentID, e.areaPath); err != nil {
		return err
	}
	res, err := s.db.Q(ctx).ExecContext(ctx, "UPDATE volunteer_timebank_accounts SET minutes = minutes + $1 WHERE resident_id = $2 AND minutes + $1 >= 0",
		e.minutes, e.residentID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.OnField("minutes", "err.volunteer.coins_short")
	}
	_, err = s.db.Q(ctx).ExecContext(ctx, `INSERT INTO volunteer_timebank (resident_id, kind, minutes, signup_id, other_id, reason, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, e.residentID, e.kind, e.minutes, nullID(e.signupID), nullID(e.otherID), e.reason, s.now().UTC())
	return err
}

// TimeBankInput gives coins to a family member (To) or withdraws them as
// service received (To = 0). Minutes are whole minutes of coins.
type TimeBankInput struct {
	From    int64  `json:"from"`
	To      int64  `json:"to"`
	Minutes int    `json:"minutes"`
	Reason  string `json:"reason"`
}

// MoveCoins gives or withdraws coins, at the desk: staff who may manage
// volunteers in the resident's community, and may read the register to
// check the household. A gift goes only to another member of the same
// household (直系亲属 living together).
func (s *Service) MoveCoins(ctx context.Context, in TimeBankInput) error {
	if _, err := auth.Require(ctx, auth.VolunteerManage); err != nil {
		return err
	}
	if !s.Config.TimeBank {
		return errs.E(errs.NotFound, "err.volunteer.timebank_off")
	}
	in.Reason = strings.TrimSpace(in.Reason)
	var v errs.Validation
	v.Check(in.Minutes >= 1 && in.Minutes <= 10000*60, "minutes", "err.volunteer.coin_amount")
	v.Check(in.Reason != "" && textOK(in.Reason, 200), "reason", "err.volunteer.reason")
	v.Check(in.To != in.From, "to", "err.volunteer.gift_self")
	if err := v.Err(); err != nil {
		return err
	}
	from, err := s.reg.Resident(ctx, in.From)
	if err != nil {
		return errs.OnField("from", "err.volunteer.resident_unknown", in.From)
	}
	if err := auth.Allowed(auth.From(ctx), auth.VolunteerManage, from.AreaPath, outOfScope); err != nil {
		return err
	}
	if in.To == 0 {
		return s.db.Write(ctx, func(ctx context.Context) error {
			if err := s.addCoins(ctx, coinEntry{residentID: in.From, areaPath: from.AreaPath, kind: "withdraw", minutes: -in.Minutes, reason: in.Reason}); err != nil {
				return err
			}
			return s.record(ctx, "timebank.withdraw", "resident", in.From, fmt.Sprint(in.Minutes))
		})
	}
	to, err := s.reg.Resident(ctx, in.To)
	if err != nil {
		return errs.OnField("to", "err.volunteer.resident_unknown", in.To)
	}
	if from.HouseholdID == 0 || from.HouseholdID != to.HouseholdID {
		return errs.OnField("to", "err.volunteer.not_family")
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		if err := s.addCoins(ctx, coinEntry{residentID: in.From, areaPath: from.AreaPath, kind: "gift_out", minutes: -in.Minutes, otherID: in.To, reason: in.Reason}); err != nil {
			return err
		}
		if err := s.addCoins(ctx, coinEntry{residentID: in.To, areaPath: to.AreaPath, kind: "gift_in", minutes: in.Minutes, otherID: in.From, reason: in.Reason}); err != nil {
			return err
		}
		return s.record(ctx, "timebank.gift", "resident", in.From, fmt.Sprintf("%d → %d", in.Minutes, in.To))
	})
}

// Account is a time-bank account with its ledger.
type Account struct {
	ResidentID int64   `json:"resident_id"`
	Minutes    int     `json:"minutes"`
	Entries    []Entry `json:"entries"`
}

// Coins is the balance in coins (hours).
func (a Account) Coins() float64 { return float64(a.Minutes) / 60 }

// TimeBank returns a resident's account: to staff of the resident's area,
// or to the resident themselves.
func (s *Service) TimeBank(ctx context.Context, residentID int64) (Account, error) {
	p, err := caller(ctx)
	if err != nil {
		return Account{}, err
	}
	acc := Account{ResidentID: residentID, Entries: []Entry{}}
	var path string
	err = s.db.Q(ctx).QueryRowContext(ctx, "SELECT minutes, area_path FROM volunteer_timebank_accounts WHERE resident_id = $1", residentID).Scan(&acc.Minutes, &path)
	if errors.Is(err, sql.ErrNoRows) {
		// No account yet, nothing deposited: still only for those who
		// could see the account, so that nobody learns from the answer
		// which residents exist. Their area is the register's.
		r, err := s.reg.Resident(auth.WithPrincipal(ctx, auth.System()), residentID)
		if err != nil {
			return Account{}, errs.E(errs.Forbidden, "err.auth.forbidden")
		}
		path = r.AreaPath
	} else if err != nil {
		return Account{}, err
	}
	if !p.Can(auth.VolunteerRead, path) {
		me, err := s.reg.IdentityOf(ctx, p.UserID)
		if err != nil || me.ResidentID != residentID {
			return Account{}, errs.E(errs.Forbidden, "err.auth.forbidden")
		}
	}
	acc.Entries, err = db.All(ctx, s.db.Q(ctx), func(r db.Scanner) (Entry, error) {
		var e Entry
		var at time.Time
		err := r.Scan(&e.ID, &e.Kind, &e.Amount, &e.Reason, &at)
		e.CreatedAt = at
		return e, err
	}, "SELECT id, kind, minutes, reason, created_at FROM volunteer_timebank WHERE resident_id = $1 ORDER BY id DESC LIMIT 200", residentID)
	return acc, err
}
