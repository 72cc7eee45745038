package cases

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/xuri/excelize/v2"

	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/i18n"
	"github.com/linli/linli/internal/platform/web"
)

// The figures: the KPI API, its Excel export, and the dashboard page. All
// three take the same query (area, from, to, group) and show the same
// rows, from Service.KPIReport.

func dashboardRoutes(h *handler) {
	h.srv.Handle(web.Route{Pattern: "GET /api/v1/kpis"}, h.apiKPIs)
	h.srv.Handle(web.Route{Pattern: "GET /api/v1/kpis.xlsx"}, h.kpisXLSX)
	h.srv.Handle(web.Route{Pattern: "GET /dashboard"}, h.dashboard)
	h.srv.Handle(web.Route{Pattern: "GET /dashboard.xlsx"}, h.kpisXLSX)
}

// kpiQuery reads ?area=&from=&to=&group= in the request's language.
func kpiQuery(r *http.Request) KPIQuery {
	q := r.URL.Query()
	return KPIQuery{AreaCode: q.Get("area"), From: q.Get("from"), To: q.Get("to"), Group: Group(q.Get("group")),
		Lang: web.Ctx(r.Context()).Lang}
}

// values is q as URL parameters, without the empty ones.
func (q KPIQuery) values(group Group) url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"area": q.AreaCode, "from": q.From, "to": q.To, "group": string(group)} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

func (h *handler) apiKPIs(w http.ResponseWriter, r *http.Request) error {
	rep, err := h.svc.KPIReport(r.Context(), kpiQuery(r))
	if err != nil {
		return err
	}
	lang := web.Ctx(r.Context()).Lang
	for i := range rep.Rows {
		rep.Rows[i].Name = h.rowName(lang, rep.Group, rep.Rows[i])
	}
	web.JSON(w, http.StatusOK, rep)
	return nil
}

// rowName is a row's name, or what its key "" means in the grouping.
func (h *handler) rowName(lang i18n.Lang, g Group, row KPIRow) string {
	if row.Key != "" {
		return row.Name
	}
	return h.srv.Catalog().T(lang, "cases.kpi.none_"+string(g))
}

func (h *handler) dashboard(w http.ResponseWriter, r *http.Request) error {
	q := kpiQuery(r)
	rep, err := h.svc.KPIReport(r.Context(), q)
	data := map[string]any{"Query": q, "Groups": Groups, "Config": h.svc.Config}
	if errs.CodeOf(err) == errs.Invalid {
		// The form again, with what was wrong.
		msg, fields := web.Message(h.srv.Catalog(), web.Ctx(r.Context()).Lang, err)
		byField := map[string]string{}
		for _, f := range fields {
			byField[f.Field] = f.Message
		}
		data["Error"], data["Fields"] = msg, byField
		return h.srv.RenderStatus(w, r, http.StatusBadRequest, "dashboard", web.PageData{Title: "cases.dashboard.title", Data: data})
	}
	if err != nil {
		return err
	}
	lang := web.Ctx(r.Context()).Lang
	for i := range rep.Rows {
		rep.Rows[i].Name = h.rowName(lang, rep.Group, rep.Rows[i])
	}
	data["Report"] = rep
	data["Scope"], data["Period"] = h.scopeAndPeriod(lang, rep)
	data["Export"] = "/dashboard.xlsx?" + q.values(rep.Group).Encode()
	data["Trend"] = "/api/v1/kpis?" + q.values(trendGroup(rep)).Encode()
	return h.srv.Render(w, r, "dashboard", web.PageData{Title: "cases.dashboard.title", Data: data})
}

// trendGroup is the period of the page's line chart: the report's own when
// it is one, else days for up to a month, weeks for up to half a year,
// months beyond.
func trendGroup(rep KPIReport) Group {
	if rep.Group.Period() {
		return rep.Group
	}
	if from, ok := parseDay(rep.From); ok {
		if to, ok := parseDay(rep.To); ok {
			switch days := to.Sub(from).Hours() / 24; {
			case days <= 31:
				return ByDay
			case days <= 183:
				return ByWeek
			}
		}
	}
	return ByMonth
}

// scopeAndPeriod say what a report covers, for its title.
func (h *handler) scopeAndPeriod(lang i18n.Lang, rep KPIReport) (scope, period string) {
	t := func(key string, args ...any) string { return h.srv.Catalog().T(lang, key, args...) }
	scope = t("cases.dashboard.scope_all")
	if rep.Area != nil {
		scope = rep.Area.Name + " (" + rep.Area.Code + ")"
	}
	from, to := rep.From, rep.To
	if from == "" {
		from = t("cases.dashboard.since_start")
	}
	if to == "" {
		to = t("cases.dashboard.until_now")
	}
	return scope, t("cases.dashboard.period", from, to)
}

// kpisXLSX sends the report as an Excel workbook: a title row saying what
// it covers, a header row in the reader's language, a row per line of the
// report with its counts and rates (rates as percentages), the total, and
// the formulas with their weights. Written with excelize's StreamWriter,
// which keeps memory flat however many rows there are.
func (h *handler) kpisXLSX(w http.ResponseWriter, r *http.Request) error {
	q := kpiQuery(r)
	rep, err := h.svc.KPIReport(r.Context(), q)
	if err != nil {
		return err
	}
	lang := web.Ctx(r.Context()).Lang
	book, err := h.workbook(lang, rep)
	if err != nil {
		return errs.Wrap(err, "err.internal")
	}
	name := "kpis"
	for _, part := range []string{rep.Area.code(), rep.From, rep.To, string(rep.Group)} {
		if part != "" {
			name += "-" + part
		}
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.xlsx"`)
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(book)
	return err
}

func (a *AreaRef) code() string {
	if a == nil {
		return ""
	}
	return a.Code
}

// kpiColumns are the report's columns after the name and the code: the
// counts, then the rates (rate true).
var kpiColumns = []struct {
	key  string
	rate bool
	get  func(k KPIs) any
}{
	{"cases.kpi.reported", false, func(k KPIs) any { return k.Reported }},
	{"cases.kpi.accepted", false, func(k KPIs) any { return k.Accepted }},
	{"cases.kpi.rejected", false, func(k KPIs) any { return k.Rejected }},
	{"cases.kpi.dispatched", false, func(k KPIs) any { return k.Dispatched }},
	{"cases.kpi.closed", false, func(k KPIs) any { return k.Closed }},
	{"cases.kpi.closed_on_time", false, func(k KPIs) any { return k.OnTime }},
	{"cases.kpi.closed_late", false, func(k KPIs) any { return k.Late }},
	{"cases.kpi.closed_deferred", false, func(k KPIs) any { return k.Deferred }},
	{"cases.kpi.feedbacks", false, func(k KPIs) any { return k.Feedbacks }},
	{"cases.kpi.reworked", false, func(k KPIs) any { return k.Reworked }},
	{"cases.kpi.extended", false, func(k KPIs) any { return k.Extended }},
	{"cases.kpi.callbacks", false, func(k KPIs) any { return k.Callbacks }},
	{"cases.kpi.contacted", false, func(k KPIs) any { return k.Contacted }},
	{"cases.kpi.solved", false, func(k KPIs) any { return k.Solved }},
	{"cases.kpi.satisfied", false, func(k KPIs) any { return k.Satisfied }},
	{"cases.kpi.basically_satisfied", false, func(k KPIs) any { return k.BasicallySatisfied }},
	{"cases.kpi.unsatisfied", false, func(k KPIs) any { return k.Unsatisfied }},
	{"cases.kpi.accept_rate", true, func(k KPIs) any { return k.AcceptRate }},
	{"cases.kpi.close_rate", true, func(k KPIs) any { return k.CloseRate }},
	{"cases.kpi.on_time_rate", true, func(k KPIs) any { return k.OnTimeRate }},
	{"cases.kpi.rework_rate", true, func(k KPIs) any { return k.ReworkRate }},
	{"cases.kpi.extension_rate", true, func(k KPIs) any { return k.ExtensionRate }},
	{"cases.kpi.response_rate", true, func(k KPIs) any { return k.ResponseRate }},
	{"cases.kpi.resolution_rate", true, func(k KPIs) any { return k.ResolutionRate }},
	{"cases.kpi.satisfaction_rate", true, func(k KPIs) any { return k.SatisfactionRate }},
	{"cases.kpi.combined", true, func(k KPIs) any { return k.Combined }},
}

func (h *handler) workbook(lang i18n.Lang, rep KPIReport) ([]byte, error) {
	t := func(key string, args ...any) string { return h.srv.Catalog().T(lang, key, args...) }
	f := excelize.NewFile()
	defer f.Close()
	sheet := t("cases.dashboard.title")
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	pctFmt := "0.0%"
	title, err1 := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}})
	bold, err2 := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	pct, err3 := f.NewStyle(&excelize.Style{CustomNumFmt: &pctFmt})
	boldPct, err4 := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, CustomNumFmt: &pctFmt})
	last, _ := excelize.ColumnNumberToName(2 + len(kpiColumns))
	err = errors.Join(err1, err2, err3, err4,
		sw.SetColWidth(1, 1, 24), sw.SetColWidth(2, 2, 16), sw.SetColWidth(3, 2+len(kpiColumns), 11),
		sw.SetPanes(&excelize.Panes{Freeze: true, XSplit: 1, YSplit: 2, TopLeftCell: "B3", ActivePane: "bottomRight"}),
		sw.MergeCell("A1", last+"1"))
	if err != nil {
		return nil, err
	}
	scope, period := h.scopeAndPeriod(lang, rep)
	heading := t("cases.dashboard.title") + " · " + scope + " · " + period + " · " + t("cases.dashboard.group_"+string(rep.Group))
	header := []any{excelize.Cell{StyleID: bold, Value: t("cases.dashboard.group_" + string(rep.Group))},
		excelize.Cell{StyleID: bold, Value: t("cases.kpi.code")}}
	for _, c := range kpiColumns {
		header = append(header, excelize.Cell{StyleID: bold, Value: t(c.key)})
	}
	line := func(name, code string, k KPIs, total bool) []any {
		text, rate := 0, pct
		if total {
			text, rate = bold, boldPct
		}
		out := []any{excelize.Cell{StyleID: text, Value: name}, excelize.Cell{StyleID: text, Value: code}}
		for _, c := range kpiColumns {
			style := text
			if c.rate {
				style = rate
			}
			out = append(out, excelize.Cell{StyleID: style, Value: c.get(k)})
		}
		return out
	}
	err = errors.Join(sw.SetRow("A1", []any{excelize.Cell{StyleID: title, Value: heading}}, excelize.RowOpts{Height: 24}),
		sw.SetRow("A2", header))
	n := 3
	for _, row := range rep.Rows {
		if err == nil {
			err = sw.SetRow("A"+strconv.Itoa(n), line(h.rowName(lang, rep.Group, row), row.Key, row.KPIs, false))
			n++
		}
	}
	if err != nil {
		return nil, err
	}
	c := h.svc.Config
	err = errors.Join(sw.SetRow("A"+strconv.Itoa(n), line(t("cases.dashboard.total"), "", rep.Total, true)),
		sw.SetRow("A"+strconv.Itoa(n+2), []any{t("cases.dashboard.formula", num(c.BasicallySatisfiedWeight),
			num(c.WeightResponse), num(c.WeightResolution), num(c.WeightSatisfaction))}),
		sw.Flush())
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// num writes a weight as people do: 0.9, 0.1, 1.
func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
