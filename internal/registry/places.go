package registry

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/db"
	"github.com/linli/linli/internal/platform/errs"
)

// PlaceKind says what a place or organisation is.
type PlaceKind string

const (
	Shop      PlaceKind = "shop"       // 商铺
	Company   PlaceKind = "company"    // 企业
	School    PlaceKind = "school"     // 学校
	SocialOrg PlaceKind = "social_org" // 社会组织
	OtherKind PlaceKind = "other"
)

// PlaceKinds lists every kind.
var PlaceKinds = []PlaceKind{Shop, Company, School, SocialOrg, OtherKind}

// Place is a shop, company, school or social organisation (单位/场所/组织)
// with its location and contact. The contact's phone is masked.
type Place struct {
	ID int64 `json:"id"`
	placed
	Kind         PlaceKind `json:"kind"`
	Name         string    `json:"name"`
	CreditCode   string    `json:"credit_code,omitempty"` // 统一社会信用代码
	Address      string    `json:"address,omitempty"`
	Location     *Point    `json:"location,omitempty"`
	ContactName  string    `json:"contact_name,omitempty"`
	ContactPhone string    `json:"contact_phone,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`

	phoneSealed string
}

// PlaceInput is what creating or changing a place takes; an empty
// ContactPhone on a change keeps the stored one.
type PlaceInput struct {
	Grid         string    `json:"grid"`
	Kind         PlaceKind `json:"kind"`
	Name         string    `json:"name"`
	CreditCode   string    `json:"credit_code"`
	Address      string    `json:"address"`
	Location     *Point    `json:"location"`
	ContactName  string    `json:"contact_name"`
	ContactPhone string    `json:"contact_phone"`
}

// validCredit checks the form of a 统一社会信用代码: 18 digits and capital
// letters without I, O, S, V, Z.
func validCredit(s string) bool {
	if len(s) != 18 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') || strings.ContainsRune("IOSVZ", c) {
			return false
		}
	}
	return true
}

func (in *PlaceInput) validate() error {
	in.Grid, in.Name, in.Address = strings.TrimSpace(in.Grid), strings.TrimSpace(in.Name), strings.TrimSpace(in.Address)
	in.CreditCode = strings.ToUpper(strings.TrimSpace(in.CreditCode))
	in.ContactName = strings.TrimSpace(in.ContactName)
	var phoneOK bool
	in.ContactPhone, phoneOK = normalisePhone(in.ContactPhone)
	var v errs.Validation
	v.Check(slices.Contains(PlaceKinds, in.Kind), "kind", "err.registry.place_kind", string(in.Kind))
	v.Check(in.Name != "" && textOK(in.Name, 100), "name", "err.registry.place_name")
	v.Check(in.CreditCode == "" || validCredit(in.CreditCode), "credit_code", "err.registry.credit_code")
	v.Check(textOK(in.Address, 200), "address", "err.registry.address")
	v.Check(textOK(in.ContactName, 50), "contact_name", "err.registry.name")
	v.Check(phoneOK, "contact_phone", "err.registry.phone")
	checkPoint(&v, "location", in.Location)
	return v.Err()
}

// CreatePlace adds a place or organisation to a grid.
func (s *Service) CreatePlace(ctx context.Context, in PlaceInput) (Place, error) {
	if _, err := auth.Require(ctx, auth.RegistryEdit); err != nil {
		return Place{}, err
	}
	if err := in.validate(); err != nil {
		return Place{}, err
	}
	var pl Place
	err := s.db.Write(ctx, func(ctx context.Context) error {
		g, err := s.grid(ctx, in.Grid, auth.RegistryEdit)
		if err != nil {
			return err
		}
		id, err := s.store.insertPlace(ctx, g.ID, in, s.box.Seal(fieldContactPhone, in.ContactPhone), s.now().UTC())
		if err != nil {
			return err
		}
		if pl, err = s.store.place(ctx, id); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "registry.place.create", TargetType: "place", TargetID: strconv.FormatInt(id, 10)})
	})
	return s.maskedPlace(pl), err
}

// UpdatePlace changes a place.
func (s *Service) UpdatePlace(ctx context.Context, id int64, in PlaceInput) (Place, error) {
	if _, err := auth.Require(ctx, auth.RegistryEdit); err != nil {
		return Place{}, err
	}
	if err := in.validate(); err != nil {
		return Place{}, err
	}
	var pl Place
	err := s.db.Write(ctx, func(ctx context.Context) error {
		if _, err := s.placeFor(ctx, id, auth.RegistryEdit); err != nil {
			return err
		}
		g, err := s.grid(ctx, in.Grid, auth.RegistryEdit)
		if err != nil {
			return err
		}
		sealed := ""
		if in.ContactPhone != "" {
			sealed = s.box.Seal(fieldContactPhone, in.ContactPhone)
		}
		if err := s.store.updatePlace(ctx, id, g.ID, in, sealed, s.now().UTC()); err != nil {
			return err
		}
		if pl, err = s.store.place(ctx, id); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "registry.place.update", TargetType: "place", TargetID: strconv.FormatInt(id, 10)})
	})
	return s.maskedPlace(pl), err
}

func (s *Service) placeFor(ctx context.Context, id int64, perm auth.Perm) (Place, error) {
	pl, err := s.store.place(ctx, id)
	if err != nil {
		return Place{}, err
	}
	return pl, auth.Allowed(auth.From(ctx), perm, pl.AreaPath, outOfScope)
}

// Place returns a place, its contact phone masked.
func (s *Service) Place(ctx context.Context, id int64) (Place, error) {
	if _, err := auth.Require(ctx, auth.RegistryRead); err != nil {
		return Place{}, err
	}
	pl, err := s.placeFor(ctx, id, auth.RegistryRead)
	if err != nil {
		return Place{}, err
	}
	return s.maskedPlace(pl), nil
}

func (s *Service) maskedPlace(pl Place) Place {
	phone, _ := s.box.Open(fieldContactPhone, pl.phoneSealed)
	pl.ContactPhone, pl.phoneSealed = crypto.MaskPhone(phone), ""
	return pl
}

// RevealPlaceContact returns a place's contact phone in clear, audited with
// the reason, like a resident's numbers.
func (s *Service) RevealPlaceContact(ctx context.Context, id int64, reason string) (string, error) {
	if _, err := auth.Require(ctx, auth.RegistryReveal); err != nil {
		return "", err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || !textOK(reason, 200) {
		return "", errs.OnField("reason", "err.registry.reason")
	}
	var phone string
	err := s.db.Write(ctx, func(ctx context.Context) error {
		pl, err := s.placeFor(ctx, id, auth.RegistryReveal)
		if err != nil {
			return err
		}
		if phone, err = s.box.Open(fieldContactPhone, pl.phoneSealed); err != nil {
			return errs.Wrap(err, "err.internal")
		}
		return s.audit.Record(ctx, audit.Entry{Action: "registry.place.reveal", TargetType: "place",
			TargetID: strconv.FormatInt(id, 10), Detail: reason})
	})
	return phone, err
}

// PlaceQuery selects places.
type PlaceQuery struct {
	Grid  string
	Kind  PlaceKind
	Name  string // part of the name
	After int64
	Limit int
}

// Places lists the places in the caller's scope.
func (s *Service) Places(ctx context.Context, q PlaceQuery) (Page[Place], error) {
	p, err := auth.Require(ctx, auth.RegistryRead)
	if err != nil {
		return Page[Place]{}, err
	}
	q.Limit = limitOf(q.Limit)
	items, err := s.store.places(ctx, p, q)
	for i := range items {
		items[i] = s.maskedPlace(items[i])
	}
	return pageOf(items, q.Limit, func(x Place) int64 { return x.ID }), err
}

// ComponentState is a component's condition.
type ComponentState string

const (
	Intact   ComponentState = "intact"   // 完好
	Damaged  ComponentState = "damaged"  // 破损
	Lost     ComponentState = "lost"     // 丢失
	Occupied ComponentState = "occupied" // 占用
)

// ComponentStates lists every state.
var ComponentStates = []ComponentState{Intact, Damaged, Lost, Occupied}

// Component is a public facility in the street (部件): a manhole cover, a
// street light, a bin, with its 16-digit code.
type Component struct {
	ID int64 `json:"id"`
	placed
	Code      string         `json:"code"`
	Major     string         `json:"major"`
	Minor     string         `json:"minor"`
	Class     string         `json:"class"` // the class's name in Chinese
	ClassEN   string         `json:"class_en"`
	Name      string         `json:"name,omitempty"`
	State     ComponentState `json:"state"`
	Owner     string         `json:"owner,omitempty"` // 主管/养护单位
	Location  *Point         `json:"location,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// ComponentInput is what registering a component takes. Either Code, or
// Major and Minor and the service numbers it (the next serial in the
// county and class).
type ComponentInput struct {
	Grid     string         `json:"grid"`
	Code     string         `json:"code"`
	Major    string         `json:"major"`
	Minor    string         `json:"minor"`
	Name     string         `json:"name"`
	State    ComponentState `json:"state"`
	Owner    string         `json:"owner"`
	Location *Point         `json:"location"`
}

func (in *ComponentInput) validate() error {
	in.Grid, in.Code, in.Name, in.Owner = strings.TrimSpace(in.Grid), strings.TrimSpace(in.Code), strings.TrimSpace(in.Name), strings.TrimSpace(in.Owner)
	if in.State == "" {
		in.State = Intact
	}
	var v errs.Validation
	if in.Code != "" {
		_, major, minor, _, ok := componentCode(in.Code)
		v.Check(ok, "code", "err.registry.component_code")
		v.Check(in.Major == "" || in.Major == major, "major", "err.registry.component_major", major)
		v.Check(in.Minor == "" || in.Minor == minor, "minor", "err.registry.component_minor", minor)
		in.Major, in.Minor = major, minor
	} else {
		v.Check(len(in.Major) == 2 && componentRE.MatchString(in.Major+in.Minor+"000000000000"), "major", "err.registry.component_class")
	}
	v.Check(slices.Contains(ComponentStates, in.State), "state", "err.registry.component_state", string(in.State))
	v.Check(textOK(in.Name, 50), "name", "err.registry.component_name")
	v.Check(textOK(in.Owner, 100), "owner", "err.registry.component_owner")
	checkPoint(&v, "location", in.Location)
	return v.Err()
}

// CreateComponent registers a component. Its code must begin with the
// county code of its grid (the first 6 digits of every area code below
// the county) and name a known class.
func (s *Service) CreateComponent(ctx context.Context, in ComponentInput) (Component, error) {
	if _, err := auth.Require(ctx, auth.RegistryEdit); err != nil {
		return Component{}, err
	}
	if err := in.validate(); err != nil {
		return Component{}, err
	}
	var c Component
	err := s.db.Write(ctx, func(ctx context.Context) error {
		g, err := s.grid(ctx, in.Grid, auth.RegistryEdit)
		if err != nil {
			return err
		}
		county := g.Code[:6]
		if known, err := s.store.classExists(ctx, in.Major, in.Minor); err != nil {
			return err
		} else if !known {
			return errs.OnField("code", "err.registry.component_unknown_class", in.Major, in.Minor)
		}
		if in.Code == "" {
			serial, err := s.store.nextSerial(ctx, county+in.Major+in.Minor)
			if err != nil {
				return err
			}
			in.Code = fmt.Sprintf("%s%s%s%06d", county, in.Major, in.Minor, serial)
		} else if in.Code[:6] != county {
			return errs.OnField("code", "err.registry.component_county", county)
		}
		id, err := s.store.insertComponent(ctx, g.ID, in, s.now().UTC())
		if db.IsUnique(err) {
			return errs.TakenOnField("code", "err.registry.component_taken", in.Code)
		}
		if err != nil {
			return err
		}
		if c, err = s.store.component(ctx, id); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "registry.component.create", TargetType: "component", TargetID: in.Code})
	})
	return c, err
}

// SetComponentState records a component's new condition (a patrol found a
// cover missing, a light was repaired).
func (s *Service) SetComponentState(ctx context.Context, id int64, state ComponentState) (Component, error) {
	if _, err := auth.Require(ctx, auth.RegistryEdit); err != nil {
		return Component{}, err
	}
	if !slices.Contains(ComponentStates, state) {
		return Component{}, errs.OnField("state", "err.registry.component_state", string(state))
	}
	var c Component
	err := s.db.Write(ctx, func(ctx context.Context) error {
		old, err := s.componentFor(ctx, id, auth.RegistryEdit)
		if err != nil {
			return err
		}
		if err := s.store.setComponentState(ctx, id, state, s.now().UTC()); err != nil {
			return err
		}
		if c, err = s.store.component(ctx, id); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "registry.component.state", TargetType: "component", TargetID: old.Code,
			Detail: string(old.State) + " → " + string(state)})
	})
	return c, err
}

func (s *Service) componentFor(ctx context.Context, id int64, perm auth.Perm) (Component, error) {
	c, err := s.store.component(ctx, id)
	if err != nil {
		return Component{}, err
	}
	return c, auth.Allowed(auth.From(ctx), perm, c.AreaPath, outOfScope)
}

// Component returns a component.
func (s *Service) Component(ctx context.Context, id int64) (Component, error) {
	if _, err := auth.Require(ctx, auth.RegistryRead); err != nil {
		return Component{}, err
	}
	return s.componentFor(ctx, id, auth.RegistryRead)
}

// ComponentQuery selects components.
type ComponentQuery struct {
	Grid  string
	State ComponentState
	After int64
	Limit int
}

// Components lists the components in the caller's scope.
func (s *Service) Components(ctx context.Context, q ComponentQuery) (Page[Component], error) {
	p, err := auth.Require(ctx, auth.RegistryRead)
	if err != nil {
		return Page[Component]{}, err
	}
	q.Limit = limitOf(q.Limit)
	items, err := s.store.components(ctx, p, q)
	return pageOf(items, q.Limit, func(x Component) int64 { return x.ID }), err
}
