package registry

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"github.com/linli/linli/internal/platform/audit"
	"github.com/linli/linli/internal/platform/auth"
)

// exportHeader is the CSV's first row, in Chinese: the file is opened in
// Excel by the people who used to keep the register there.
var exportHeader = []string{"网格", "网格代码", "姓名", "性别", "出生日期", "证件号码", "手机号", "人口类型", "特殊人群", "关爱等级", "最近走访"}

var popNames = map[PopType]string{Registered: "户籍", Floating: "流动", Overseas: "境外"}

// ExportResidents writes the residents a query selects, within the
// caller's scope, as CSV (UTF-8 with a byte-order mark, which Excel needs
// to read Chinese). ID and phone numbers are masked: an export is a copy
// that leaves Linli, and a masked one is useless to whoever finds it. The
// export is audited with its row count. Pages of the search are streamed,
// so a large register is never held in memory.
func (s *Service) ExportResidents(ctx context.Context, q ResidentQuery, w io.Writer) (int, error) {
	if err := authorize(ctx, auth.RegistryRead); err != nil {
		return 0, err
	}
	groups, err := s.store.groups(ctx)
	if err != nil {
		return 0, err
	}
	names := groupNames(groups)
	q.Limit, q.After = 200, ""
	// The first page is read before anything is written, so that a bad
	// query (a grid outside the caller's scope) is still a clean error.
	page, err := s.Residents(ctx, q)
	if err != nil {
		return 0, err
	}
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return 0, err
	}
	cw := csv.NewWriter(w)
	cw.Write(exportHeader)
	n := 0
	for {
		for _, r := range page.Items {
			cw.Write(exportRow(r, names))
			n++
		}
		if page.NextCursor == "" {
			break
		}
		q.After = page.NextCursor
		if page, err = s.Residents(ctx, q); err != nil {
			return n, err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, err
	}
	return n, s.audit.Record(ctx, audit.Entry{Action: "registry.resident.export", TargetType: "resident", Detail: strconv.Itoa(n) + " rows, masked"})
}

func exportRow(r Resident, names map[string]Group) []string {
	var gs []string
	for _, g := range r.Groups {
		gs = append(gs, names[g].NameZH)
	}
	sex := map[Sex]string{Male: "男", Female: "女"}[r.Sex]
	visited := ""
	if r.LastVisitAt != nil {
		visited = r.LastVisitAt.Format("2006-01-02")
	}
	return []string{r.GridName, r.Grid, r.Name, sex, r.BirthDate, r.IDNumber, r.Phone, popNames[r.PopType],
		strings.Join(gs, "、"), r.CareLevel, visited}
}
