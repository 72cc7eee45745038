package assess

import (
	"bytes"
	"embed"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/linli/linli/internal/platform/auth"
	"github.com/linli/linli/internal/platform/errs"
	"github.com/linli/linli/internal/platform/sheet"
	"github.com/linli/linli/internal/platform/web"
)

//go:embed static/assess.js
var static embed.FS

func (h *handler) render(w http.ResponseWriter, r *http.Request, page, title string, data any) error {
	return h.srv.Render(w, r, page, web.PageData{Title: title, Data: data})
}

// Shown is the figure's value as the card prints it.
func (f Figure) Shown() string {
	switch {
	case !f.Data:
		return "—"
	case f.Key == FigSurvey:
		return strconv.FormatFloat(f.Value, 'f', 2, 64)
	case f.Key == FigVolunteer:
		return strconv.FormatFloat(f.Value, 'f', 1, 64) + " h"
	}
	return strconv.FormatFloat(f.Value*100, 'f', 1, 64) + "%"
}

// Points is the total as the card prints it.
func (r CardRow) Points() string { return strconv.FormatFloat(r.Total, 'f', 1, 64) }

func (h *handler) indexPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p := auth.From(ctx)
	data := map[string]any{"Staff": p.CanAnywhere(auth.AssessRead)}
	if p.CanAnywhere(auth.AssessRead) {
		periods, err := h.svc.Periods(ctx)
		if err != nil {
			return err
		}
		certs, err := h.svc.Certificates(ctx)
		if err != nil {
			return err
		}
		data["Periods"], data["Certificates"] = periods, certs
	}
	return h.render(w, r, "assess_index", "assess.title", data)
}

func (h *handler) scorecardPage(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		card, err := h.svc.Scorecard(r.Context(), id)
		if err != nil {
			return err
		}
		return h.render(w, r, "assess_scorecard", "assess.card.title", map[string]any{"Card": card, "Figures": Figures,
			"Export": fmt.Sprintf("/assess/periods/%d/scorecard.xlsx", id), "Self": fmt.Sprintf("/assess/periods/%d", id),
			"CanManage": auth.From(r.Context()).Can(auth.AssessManage, card.Period.path)})
	})
}

// closeForm is the street's button that closes a period and freezes its
// card.
func (h *handler) closeForm(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		if _, err := h.svc.ClosePeriod(r.Context(), id); err != nil {
			return err
		}
		http.Redirect(w, r, fmt.Sprintf("/assess/periods/%d", id), http.StatusSeeOther)
		return nil
	})
}

// reopenForm opens a closed period again, for the reason given.
func (h *handler) reopenForm(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		if _, err := h.svc.ReopenPeriod(r.Context(), id, r.PostFormValue("reason")); err != nil {
			return err
		}
		http.Redirect(w, r, fmt.Sprintf("/assess/periods/%d", id), http.StatusSeeOther)
		return nil
	})
}

func (h *handler) scorecardExport(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		card, err := h.svc.Scorecard(r.Context(), id)
		if err != nil {
			return err
		}
		t := func(key string) string { return h.srv.Catalog().T(web.Ctx(r.Context()).Lang, key) }
		var buf bytes.Buffer
		if err := WriteScorecardXLSX(&buf, card, t); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		w.Header().Set("Content-Disposition", `attachment; filename="scorecard-`+card.Period.Street+`-`+card.Period.Code+`.xlsx"`)
		_, err = w.Write(buf.Bytes())
		return err
	})
}

// WriteScorecardXLSX writes a card as one sheet: per community its rank,
// total, and each figure's value, score, weight and rank. t translates
// the header's message keys.
func WriteScorecardXLSX(w io.Writer, card Scorecard, t func(string) string) error {
	header := []string{t("assess.card.rank"), t("assess.card.code"), t("assess.card.community"), t("assess.card.total")}
	for _, k := range Figures {
		name := t("assess.fig." + string(k))
		header = append(header, name, name+" · "+t("assess.card.score"), name+" · "+t("assess.card.weight"), name+" · "+t("assess.card.rank"))
	}
	x, err := sheet.NewXLSXWriter(w, card.Period.Code, header)
	if err != nil {
		return err
	}
	for _, row := range card.Rows {
		cells := []any{row.Rank, row.Community, row.Name, round(row.Total, 2)}
		for _, f := range row.Figures {
			if !f.Data {
				cells = append(cells, nil, nil, f.Weight, nil)
				continue
			}
			cells = append(cells, round(f.Value, 4), round(f.Score, 4), f.Weight, f.Rank)
		}
		if err := x.Write(cells); err != nil {
			return err
		}
	}
	return x.Close()
}

func round(f float64, places int) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'f', places, 64), 64)
	return v
}

func (h *handler) surveysPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	data := map[string]any{}
	if auth.From(ctx).CanAnywhere(auth.AssessRead) {
		vs, err := h.svc.Surveys(ctx)
		if err != nil {
			return err
		}
		if code := r.URL.Query().Get("area"); code != "" {
			vs, err = h.svc.concerning(ctx, vs, code)
			if err != nil {
				return err
			}
		}
		data["Surveys"] = vs
	} else {
		vs, err := h.svc.OpenSurveys(ctx)
		if err != nil {
			return err
		}
		data["Open"] = vs
	}
	return h.render(w, r, "assess_surveys", "assess.surveys.title", data)
}

// surveyPage shows staff the results, and a resident the form.
func (h *handler) surveyPage(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		ctx := r.Context()
		if auth.From(ctx).CanAnywhere(auth.AssessRead) {
			res, err := h.svc.Results(ctx, id)
			if err != nil {
				return err
			}
			return h.render(w, r, "assess_results", "assess.results.title", map[string]any{"Results": res})
		}
		v, err := h.svc.Survey(ctx, id)
		if err != nil {
			return err
		}
		return h.render(w, r, "assess_answer", "assess.answer.title", map[string]any{"Survey": v, "Done": r.URL.Query().Get("done") != "",
			"Open": v.Open(h.svc.now())})
	})
}

// answerForm reads the form's fields q<question id>, one per choice for a
// multiple-choice question.
func (h *handler) answerForm(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		v, err := h.svc.Survey(r.Context(), id)
		if err != nil {
			return err
		}
		if err := r.ParseForm(); err != nil {
			return errs.E(errs.Invalid, "err.invalid")
		}
		var answers []AnswerInput
		for _, q := range v.Questions {
			if a, ok := formAnswer(q, r.PostForm["q"+strconv.FormatInt(q.ID, 10)]); ok {
				answers = append(answers, a)
			}
		}
		if err := h.svc.Answer(r.Context(), id, answers); err != nil {
			return err
		}
		http.Redirect(w, r, fmt.Sprintf("/assess/surveys/%d?done=1", id), http.StatusSeeOther)
		return nil
	})
}

// formAnswer turns a question's form values into an answer; false when
// the question was left blank.
func formAnswer(q Question, values []string) (AnswerInput, bool) {
	a := AnswerInput{Question: q.ID}
	for _, s := range values {
		if s == "" {
			continue
		}
		switch q.Kind {
		case Text:
			a.Text = s
		case Rating:
			a.Rating, _ = strconv.Atoi(s)
		default:
			n, err := strconv.Atoi(s)
			if err != nil {
				n = -1
			}
			a.Choices = append(a.Choices, n)
		}
	}
	return a, a.Text != "" || a.Rating != 0 || len(a.Choices) > 0
}

func (h *handler) tasksPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	tasks, err := h.svc.Tasks(ctx, TaskQuery{})
	if err != nil {
		return err
	}
	hds, err := h.svc.HandDowns(ctx, "")
	if err != nil {
		return err
	}
	p := auth.From(ctx)
	data := map[string]any{"Tasks": tasks, "HandDowns": hds, "CanRefuse": p.CanAnywhere(auth.TaskRefuse)}
	if p.CanAnywhere(auth.TaskApply) {
		// The forms offer only the active departments of the caller's
		// streets: a department is picked, never typed.
		ds, err := h.svc.Departments(ctx, DepartmentQuery{ActiveOnly: true})
		if err != nil {
			return err
		}
		data["Departments"], data["Lists"], data["Cadences"], data["Kinds"] = ds, []List{Duty, Assist}, Cadences, HandDownKinds
	}
	q := r.URL.Query()
	if street := q.Get("street"); street != "" {
		rep, err := h.svc.Burden(ctx, street, q.Get("from"), q.Get("to"))
		if err != nil {
			return err
		}
		data["Burden"] = rep
	}
	data["Street"], data["From"], data["To"] = q.Get("street"), q.Get("from"), q.Get("to")
	return h.render(w, r, "assess_tasks", "assess.tasks.title", data)
}

// refuseForm is the community's one-click refusal.
func (h *handler) refuseForm(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		if _, err := h.svc.RefuseHandDown(r.Context(), id, r.PostFormValue("reason")); err != nil {
			return err
		}
		http.Redirect(w, r, "/assess/tasks", http.StatusSeeOther)
		return nil
	})
}

func (h *handler) script(w http.ResponseWriter, r *http.Request) error {
	b, err := static.ReadFile("static/assess.js")
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, err = w.Write(b)
	return err
}
