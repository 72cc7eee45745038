package registry

import (
	"context"
	"strconv"
	"strings"

	"github.com/linli/linli/internal/platform/auth"
)

// ResidentQuery selects residents. Name is a prefix of the name; Phone and
// IDNumber match exactly, through their blind indexes; Address is part of
// the standard address of a room the resident is linked to now.
type ResidentQuery struct {
	Grid      string `json:"grid"`
	Name      string `json:"name"`
	Address   string `json:"address"`
	Phone     string `json:"phone"`
	IDNumber  string `json:"id_number"`
	Group     string `json:"group"`
	CareLevel string `json:"care_level"`
	After     string `json:"cursor"` // from NextCursor
	Limit     int    `json:"limit"`
}

// Empty reports whether q asks for nothing in particular.
func (q ResidentQuery) Empty() bool {
	return q.Name == "" && q.Address == "" && q.Phone == "" && q.IDNumber == "" && q.Group == "" && q.CareLevel == ""
}

// residentFilter is a ResidentQuery turned into what the SQL compares.
type residentFilter struct {
	areaID          int64
	nameFrom        string // name_key range [nameFrom, nameTo)
	nameTo          string
	address         string
	phoneIdx, idIdx string
	group, level    string
	afterKey        string
	afterID         int64
	limit           int
}

// Residents searches the register within the caller's scope, ordered by
// name. Results are masked.
//
// Each search is one index range: the name prefix on (area_id, name_key)
// or (name_key), the numbers on their blind indexes. That is what keeps a
// search of a register of a million people within milliseconds.
func (s *Service) Residents(ctx context.Context, q ResidentQuery) (Page[Resident], error) {
	p, err := auth.Require(ctx, auth.RegistryRead)
	if err != nil {
		return Page[Resident]{}, err
	}
	f := residentFilter{limit: limitOf(q.Limit), address: strings.TrimSpace(q.Address), group: q.Group, level: q.CareLevel}
	if q.Grid != "" {
		g, err := s.grid(ctx, q.Grid, auth.RegistryRead)
		if err != nil {
			return Page[Resident]{}, err
		}
		f.areaID = g.ID
	}
	if k := nameKey(q.Name); k != "" {
		f.nameFrom, f.nameTo = k, prefixEnd(k)
	}
	if ph, _ := normalisePhone(q.Phone); ph != "" {
		f.phoneIdx = s.box.Index(fieldPhone, ph)
	}
	if id := normaliseID(q.IDNumber); id != "" {
		f.idIdx = s.box.Index(fieldIDNumber, id)
	}
	f.afterKey, f.afterID = parseCursor(q.After)
	items, err := s.store.residents(ctx, p, f)
	if err != nil {
		return Page[Resident]{}, err
	}
	if err := s.store.fillGroups(ctx, items); err != nil {
		return Page[Resident]{}, err
	}
	page := Page[Resident]{Items: make([]Resident, len(items))}
	for i, r := range items {
		page.Items[i] = s.masked(r)
	}
	if len(items) == f.limit {
		last := items[len(items)-1]
		page.NextCursor = strconv.FormatInt(last.ID, 10) + "~" + nameKey(last.Name)
	}
	return page, nil
}

// parseCursor reads "id~name_key"; a bad cursor starts from the top.
func parseCursor(c string) (string, int64) {
	idText, key, ok := strings.Cut(c, "~")
	id, err := strconv.ParseInt(idText, 10, 64)
	if !ok || err != nil {
		return "", 0
	}
	return key, id
}
