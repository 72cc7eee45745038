package registry

import (
	"context"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/crypto"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/sheet"
)

// exportHeader is the export's first row, in Chinese: the file is opened in
// Excel by the people who used to keep the register there.
var exportHeader = []string{"网格", "网格代码", "姓名", "性别", "出生日期", "证件号码", "手机号", "人口类型", "特殊人群", "关爱等级", "最近走访"}

var popNames = map[PopType]string{Registered: "户籍", Floating: "流动", Overseas: "境外"}

// ExportOptions choose what an export shows.
type ExportOptions struct {
	// Reveal writes ID and phone numbers in clear, for the rows whose grid
	// the caller holds registry.reveal on (the others stay masked). It
	// needs a Reason, which is audited with the export.
	Reveal bool
	Reason string
}

// exportPage is how many residents one read of an export fetches.
const exportPage = 2000

// ExportResidents writes the residents a query selects, within the
// caller's scope, as CSV (UTF-8 with a byte-order mark, which Excel needs
// to read Chinese). ID and phone numbers are masked: an export is a copy
// that leaves Linli, and a masked one is useless to whoever finds it. The
// export is audited with its row count. Pages of the search are streamed,
// so a large register is never held in memory.
func (s *Service) ExportResidents(ctx context.Context, q ResidentQuery, w io.Writer) (int, error) {
	return s.export(ctx, q, ExportOptions{}, func() (sheet.Writer, error) {
		cw, err := sheet.NewCSVWriter(w, exportHeader)
		return dateText{cw}, err
	})
}

// ExportResidentsXLSX is ExportResidents as an Excel workbook, written with
// sheet.XLSXWriter (streamed through a temporary file, then zipped straight
// into w), masked unless opt.Reveal.
func (s *Service) ExportResidentsXLSX(ctx context.Context, q ResidentQuery, w io.Writer, opt ExportOptions) (int, error) {
	return s.export(ctx, q, opt, func() (sheet.Writer, error) { return sheet.NewXLSXWriter(w, "居民", exportHeader) })
}

// CheckExport checks, before anything is written, that the caller may
// export with opt: a page sets its headers only after this.
func (s *Service) CheckExport(ctx context.Context, opt ExportOptions) error {
	if _, err := auth.Require(ctx, auth.RegistryRead); err != nil {
		return err
	}
	if !opt.Reveal {
		return nil
	}
	if _, err := auth.Require(ctx, auth.RegistryReveal); err != nil {
		return err
	}
	if r := strings.TrimSpace(opt.Reason); r == "" || !textOK(r, 200) {
		return errs.OnField("reason", "err.registry.reason")
	}
	return nil
}

// export reads the residents page by page on one goroutine (the search's
// index order, by name) while the caller's goroutine writes them, and
// audits the export once it is complete.
func (s *Service) export(ctx context.Context, q ResidentQuery, opt ExportOptions, open func() (sheet.Writer, error)) (int, error) {
	if err := s.CheckExport(ctx, opt); err != nil {
		return 0, err
	}
	p := auth.From(ctx)
	groups, err := s.store.groups(ctx)
	if err != nil {
		return 0, err
	}
	names := groupNames(groups)
	f, err := s.exportFilter(ctx, q)
	if err != nil {
		return 0, err
	}
	// The first page is read before anything is written, so that a bad
	// query (a grid outside the caller's scope) is still a clean error.
	first, err := s.exportRead(ctx, p, &f, opt)
	if err != nil {
		return 0, err
	}
	out, err := open()
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan [][]any, 4)
	readErr := make(chan error, 1)
	go func() {
		defer close(pages)
		page := first
		for len(page) > 0 {
			select {
			case pages <- exportCells(page, names):
			case <-ctx.Done():
				readErr <- ctx.Err()
				return
			}
			if len(page) < f.limit {
				break
			}
			var err error
			if page, err = s.exportRead(ctx, p, &f, opt); err != nil {
				readErr <- err
				return
			}
		}
		readErr <- nil
	}()
	n, revealed := 0, 0
	var werr error
	for rows := range pages {
		for _, cells := range rows {
			if werr == nil {
				werr = out.Write(cells)
			}
		}
		if werr != nil {
			cancel()
			continue
		}
		n += len(rows)
	}
	if err := <-readErr; err != nil && werr == nil {
		werr = err
	}
	if werr != nil {
		return n, werr
	}
	if err := out.Close(); err != nil {
		return n, err
	}
	detail := strconv.Itoa(n) + " rows, masked"
	if opt.Reveal {
		revealed = f.revealed
		detail = strconv.Itoa(n) + " rows, " + strconv.Itoa(revealed) + " in clear: " + strings.TrimSpace(opt.Reason)
	}
	return n, s.audit.Record(ctx, audit.Entry{Action: "registry.resident.export", TargetType: "resident", Detail: detail})
}

// exportState is a residentFilter with the export's cursor and counts.
type exportState struct {
	residentFilter
	revealed int
}

func (s *Service) exportFilter(ctx context.Context, q ResidentQuery) (exportState, error) {
	f := exportState{residentFilter: residentFilter{limit: exportPage, address: strings.TrimSpace(q.Address), group: q.Group, level: q.CareLevel}}
	if q.Grid != "" {
		g, err := s.grid(ctx, q.Grid, auth.RegistryRead)
		if err != nil {
			return f, err
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
	return f, nil
}

// exportRead reads the next page, with groups, numbers opened and masked
// (or, when revealing and allowed on the row's grid, in clear).
func (s *Service) exportRead(ctx context.Context, p *auth.Principal, f *exportState, opt ExportOptions) ([]Resident, error) {
	items, err := s.store.residents(ctx, p, f.residentFilter)
	if err != nil {
		return nil, err
	}
	if err := s.store.fillGroups(ctx, items); err != nil {
		return nil, err
	}
	for i, r := range items {
		id, err1 := s.box.Open(fieldIDNumber, r.idSealed)
		phone, err2 := s.box.Open(fieldPhone, r.phoneSealed)
		if err1 != nil || err2 != nil {
			return nil, errs.Wrap(err1, "err.internal")
		}
		if opt.Reveal && p.Can(auth.RegistryReveal, r.AreaPath) {
			f.revealed++
		} else {
			id, phone = crypto.MaskID(id), crypto.MaskPhone(phone)
		}
		items[i].IDNumber, items[i].Phone, items[i].idSealed, items[i].phoneSealed = id, phone, "", ""
	}
	if len(items) > 0 {
		last := items[len(items)-1]
		f.afterKey, f.afterID = nameKey(last.Name), last.ID
	}
	return items, nil
}

func exportCells(page []Resident, names map[string]Group) [][]any {
	out := make([][]any, len(page))
	for i, r := range page {
		out[i] = exportRow(r, names)
	}
	return out
}

var sexNamesZH = map[Sex]string{Male: "男", Female: "女"}

func exportRow(r Resident, names map[string]Group) []any {
	gs := make([]string, 0, len(r.Groups))
	for _, g := range r.Groups {
		gs = append(gs, names[g].NameZH)
	}
	var visited any
	if r.LastVisitAt != nil {
		t := r.LastVisitAt.UTC()
		visited = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	return []any{r.GridName, r.Grid, r.Name, sexNamesZH[r.Sex], r.BirthDate, r.IDNumber, r.Phone, popNames[r.PopType],
		strings.Join(gs, "、"), r.CareLevel, visited}
}

// dateText writes the last visit's date as 2024-03-08 into a CSV, where a
// time would read 2024-03-08 00:00:00.
type dateText struct{ sheet.Writer }

func (d dateText) Write(cells []any) error {
	for i, c := range cells {
		if t, ok := c.(time.Time); ok {
			cells[i] = t.Format(time.DateOnly)
		}
	}
	return d.Writer.Write(cells)
}
