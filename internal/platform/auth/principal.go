package auth

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/linli/linli/internal/platform/errs"
)

// GrantInfo is one of a principal's grants, with its area resolved.
type GrantInfo struct {
	ID       int64
	Role     Role
	AreaID   int64  // 0: everywhere
	AreaPath string // "/1/5/" ("" when everywhere)
	AreaCode string
	AreaName string
}

// Principal is who is asking: a user with their grants, reached through a
// session (all scopes) or an API token (its scopes only).
type Principal struct {
	UserID      int64
	Name        string
	DisplayName string
	Locale      string
	LargeText   bool
	Grants      []GrantInfo
	Scopes      []Scope // nil for a browser session: every scope
	SessionID   string  // "" for tokens
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// From returns the principal on ctx, or nil for an anonymous request.
func From(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// HasRole reports whether p holds role anywhere.
func (p *Principal) HasRole(r Role) bool {
	return p != nil && slices.ContainsFunc(p.Grants, func(g GrantInfo) bool { return g.Role == r })
}

// Roles lists p's roles, each once, in the order of Roles.
func (p *Principal) Roles() []Role {
	var out []Role
	for _, r := range Roles {
		if p.HasRole(r) {
			out = append(out, r)
		}
	}
	return out
}

func (p *Principal) scoped(perm Perm) bool {
	return p.Scopes == nil || slices.Contains(p.Scopes, scopeOf(perm)) ||
		(scopeOf(perm) == ScopeRead && slices.Contains(p.Scopes, ScopeWrite))
}

// grantsFor returns the grants that give perm, or nil when the token's
// scopes forbid it.
func (p *Principal) grantsFor(perm Perm) []GrantInfo {
	if p == nil || !p.scoped(perm) {
		return nil
	}
	var out []GrantInfo
	for _, g := range p.Grants {
		if slices.Contains(rolePerms[g.Role], perm) {
			out = append(out, g)
		}
	}
	return out
}

// Can reports whether p may use perm on an object in the area with the
// given path ("" for objects that belong to no area: only global grants
// reach them).
func (p *Principal) Can(perm Perm, areaPath string) bool {
	for _, g := range p.grantsFor(perm) {
		if g.AreaID == 0 || (areaPath != "" && strings.HasPrefix(areaPath, g.AreaPath)) {
			return true
		}
	}
	return false
}

// CanAnywhere reports whether p holds perm over some area.
func (p *Principal) CanAnywhere(perm Perm) bool { return len(p.grantsFor(perm)) > 0 }

// Require returns nil when p may use perm on the area, else Unauthenticated
// (no principal) or Forbidden.
func (p *Principal) Require(perm Perm, areaPath string) error {
	if p == nil {
		return errs.E(errs.Unauthenticated, "err.auth.required")
	}
	if !p.Can(perm, areaPath) {
		return errs.E(errs.Forbidden, "err.auth.forbidden")
	}
	return nil
}

// Filter returns an SQL condition that keeps rows whose area column lies
// inside p's grants for perm, with its arguments numbered from firstArg.
// It is the list-query twin of Can: both read the same grants.
//
//	cond, args := p.Filter(auth.AreaRead, "a.id", 2)
//	"SELECT … FROM areas a WHERE a.level = $1 AND " + cond
func (p *Principal) Filter(perm Perm, areaColumn string, firstArg int) (string, []any) {
	grants := p.grantsFor(perm)
	if len(grants) == 0 {
		return "1 = 0", nil
	}
	var conds []string
	var args []any
	for _, g := range grants {
		if g.AreaID == 0 {
			return "1 = 1", nil
		}
		n := firstArg + len(args)
		conds = append(conds, fmt.Sprintf("(path >= $%d AND path < $%d)", n, n+1))
		args = append(args, g.AreaPath, PathEnd(g.AreaPath))
	}
	return fmt.Sprintf("%s IN (SELECT id FROM areas WHERE %s)", areaColumn, strings.Join(conds, " OR ")), args
}

// PathEnd is the smallest string after every path that starts with prefix
// ("/1/5/" → "/1/50"): '/' is followed by '0' in byte order, so the range
// [prefix, PathEnd) is exactly the subtree and uses the index.
func PathEnd(prefix string) string {
	return prefix[:len(prefix)-1] + string(prefix[len(prefix)-1]+1)
}

// Require returns the caller, refusing one who is not logged in or holds
// perm nowhere, before any input is looked at.
func Require(ctx context.Context, perm Perm) (*Principal, error) {
	p := From(ctx)
	if p == nil {
		return nil, errs.E(errs.Unauthenticated, "err.auth.required")
	}
	if !p.CanAnywhere(perm) {
		return nil, errs.E(errs.Forbidden, "err.auth.forbidden")
	}
	return p, nil
}

// Allowed checks perm on an object in the area with path. A role without
// the permission anywhere is plainly Forbidden; holding it elsewhere gets
// outOfScope, a module's message saying whom to ask instead.
func Allowed(p *Principal, perm Perm, path, outOfScope string) error {
	if p == nil {
		return errs.E(errs.Unauthenticated, "err.auth.required")
	}
	if p.Can(perm, path) {
		return nil
	}
	if !p.CanAnywhere(perm) {
		return errs.E(errs.Forbidden, "err.auth.forbidden")
	}
	return errs.E(errs.Forbidden, outOfScope)
}
