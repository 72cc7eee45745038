package area

import (
	"context"
	"time"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
)

// Duty is what a grid worker does in a grid.
type Duty string

const (
	DutyLeader Duty = "leader" // 网格长
	DutyMember Duty = "member" // 网格员
)

// Member is a grid worker of a grid.
type Member struct {
	UserID      int64     `json:"-"`
	Name        string    `json:"name"`
	DisplayName string    `json:"display_name"`
	Duty        Duty      `json:"duty"`
	Since       time.Time `json:"since"`
}

// Accounts is what the area module needs of the accounts service.
type Accounts interface {
	Lookup(ctx context.Context, name string) (auth.User, error)
	EnsureGrant(ctx context.Context, userID int64, role auth.Role, areaID int64) error
	DropGrant(ctx context.Context, userID int64, role auth.Role, areaID int64) error
	Holders(ctx context.Context, roles []auth.Role, areaIDs []int64) ([]int64, error)
}

// Holders returns the users who hold one of roles over one of areaIDs (any
// area when empty): whom a move in those areas concerns. It checks no
// permission; see auth.Service.Holders.
func (s *Service) Holders(ctx context.Context, roles []auth.Role, areaIDs []int64) ([]int64, error) {
	return s.accounts.Holders(ctx, roles, areaIDs)
}

// grid returns the grid with code after checking that the caller may
// assign its workers.
func (s *Service) grid(ctx context.Context, code string) (Area, error) {
	g, err := s.store.byCode(ctx, code)
	if err != nil {
		return Area{}, err
	}
	if g.Level != Grid {
		return Area{}, fieldErr("grid", "err.area.not_grid", code)
	}
	if err := auth.From(ctx).Require(auth.GridAssign, g.Path); err != nil {
		return Area{}, err
	}
	return g, nil
}

// AssignWorker makes the account userName a worker of the grid, with the
// given duty, and gives them the grid_worker grant that scopes what they
// see. A grid has one leader: naming a new one makes the old one a member.
func (s *Service) AssignWorker(ctx context.Context, gridCode, userName string, duty Duty) error {
	if duty != DutyLeader && duty != DutyMember {
		return fieldErr("duty", "err.area.duty", string(duty))
	}
	return s.db.Write(ctx, func(ctx context.Context) error {
		g, err := s.grid(ctx, gridCode)
		if err != nil {
			return err
		}
		u, err := s.accounts.Lookup(ctx, userName)
		if err != nil {
			return err
		}
		if duty == DutyLeader {
			if err := s.store.demoteLeader(ctx, g.ID); err != nil {
				return err
			}
		}
		if err := s.store.upsertMember(ctx, g.ID, u.ID, duty, s.now().UTC()); err != nil {
			return err
		}
		if err := s.accounts.EnsureGrant(ctx, u.ID, auth.GridWorker, g.ID); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "grid.assign", TargetType: "area", TargetID: g.Code,
			Detail: u.Name + " " + string(duty)})
	})
}

// RemoveWorker takes a worker off a grid, with the grant that came with it.
func (s *Service) RemoveWorker(ctx context.Context, gridCode, userName string) error {
	return s.db.Write(ctx, func(ctx context.Context) error {
		g, err := s.grid(ctx, gridCode)
		if err != nil {
			return err
		}
		u, err := s.accounts.Lookup(ctx, userName)
		if err != nil {
			return err
		}
		removed, err := s.store.deleteMember(ctx, g.ID, u.ID)
		if err != nil {
			return err
		}
		if !removed {
			return errs.E(errs.NotFound, "err.area.not_member", u.Name, g.Code)
		}
		if err := s.accounts.DropGrant(ctx, u.ID, auth.GridWorker, g.ID); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "grid.unassign", TargetType: "area", TargetID: g.Code, Detail: u.Name})
	})
}

// Members lists a grid's workers, leader first.
func (s *Service) Members(ctx context.Context, gridCode string) ([]Member, error) {
	g, err := s.Get(ctx, gridCode)
	if err != nil {
		return nil, err
	}
	return s.store.members(ctx, g.ID)
}
