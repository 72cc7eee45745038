package assess

import (
	"net/http"

	"github.com/linli/linli/internal/platform/web"
)

type handler struct {
	srv *web.Server
	svc *Service
}

// Routes registers the module's API and pages: one table, top to bottom.
func Routes(srv *web.Server, svc *Service) {
	h := &handler{srv: srv, svc: svc}
	// Task admission registry and hand-downs.
	srv.Handle(web.Route{Pattern: "GET /api/v1/assess/tasks"}, h.apiTasks)
	srv.Handle(web.Route{Pattern: "POST /api/v1/assess/tasks"}, h.apiApply)
	srv.Handle(web.Route{Pattern: "POST /api/v1/assess/tasks/list"}, h.apiAddToList)
	srv.Handle(web.Route{Pattern: "POST /api/v1/assess/tasks/{id}/decision"}, h.apiDecide)
	srv.Handle(web.Route{Pattern: "POST /api/v1/assess/tasks/{id}/revoke"}, h.apiRevoke)
	srv.Handle(web.Route{Pattern: "GET /api/v1/assess/handdowns"}, h.apiHandDowns)
	srv.Handle(web.Route{Pattern: "POST /api/v1/assess/handdowns"}, h.apiHandDown)
	srv.Handle(web.Route{Pattern: "POST /api/v1/assess/handdowns/{id}/refuse"}, h.apiRefuse)
	srv.Handle(web.Route{Pattern: "GET /api/v1/assess/burden"}, h.apiBurden)
	srv.Handle(web.Route{Pattern: "GET /api/v1/assess/departments"}, h.apiDepartments)
	srv.Handle(web.Route{Pattern: "POST /api/v1/assess/departments"}, h.apiCreateDepartment)
	srv.Handle(web.Route{Pattern: "POST /api/v1/assess/departments/{id}"}, h.apiChangeDepartment)
	// Certificates.
	srv.Handle(web.Route{Pattern: "GET /api/v1/assess/certificates"}, h.apiCertificates)
	srv.Handle(web.Route{Pattern: "POST /api/v1/assess/certificates"}, h.apiSaveCertificate)
	srv.Handle(web.Route{Pattern: "GET /api/v1/assess/certificates/check"}, h.apiCheckCertificate)
	// Surveys.
	srv.Handle(web.Route{Pattern: "GET /api/v1/assess/surveys"}, h.apiSurveys)
	srv.Handle(web.Route{Pattern: "POST /api/v1/assess/surveys"}, h.apiCreateSurvey)
	srv.Handle(web.Route{Pattern: "GET /api/v1/assess/surveys/open"}, h.apiOpenSurveys)
	srv.Handle(web.Route{Pattern: "GET /api/v1/assess/surveys/{id}"}, h.apiSurvey)
	srv.Handle(web.Route{Pattern: "POST /api/v1/assess/surveys/{id}/answers"}, h.apiAnswer)
	srv.Handle(web.Route{Pattern: "POST /api/v1/assess/surveys/{id}/paper"}, h.apiPaper)
	srv.Handle(web.Route{Pattern: "GET /api/v1/assess/surveys/{id}/results"}, h.apiResults)
	// Periods, weights and scorecards.
	srv.Handle(web.Route{Pattern: "GET /api/v1/assess/periods"}, h.apiPeriods)
	srv.Handle(web.Route{Pattern: "POST /api/v1/assess/periods"}, h.apiCreatePeriod)
	srv.Handle(web.Route{Pattern: "PUT /api/v1/assess/periods/{id}/weights"}, h.apiSetWeights)
	srv.Handle(web.Route{Pattern: "POST /api/v1/assess/periods/{id}/close"}, h.apiClosePeriod)
	srv.Handle(web.Route{Pattern: "POST /api/v1/assess/periods/{id}/reopen"}, h.apiReopenPeriod)
	srv.Handle(web.Route{Pattern: "GET /api/v1/assess/periods/{id}/scorecard"}, h.apiScorecard)
	srv.Handle(web.Route{Pattern: "GET /api/v1/assess/trend"}, h.apiTrend)
	// Pages.
	srv.Handle(web.Route{Pattern: "GET /assess"}, h.indexPage)
	srv.Handle(web.Route{Pattern: "GET /assess/periods/{id}"}, h.scorecardPage)
	srv.Handle(web.Route{Pattern: "GET /assess/periods/{id}/scorecard.xlsx"}, h.scorecardExport)
	srv.Handle(web.Route{Pattern: "POST /assess/periods/{id}/close"}, h.closeForm)
	srv.Handle(web.Route{Pattern: "POST /assess/periods/{id}/reopen"}, h.reopenForm)
	srv.Handle(web.Route{Pattern: "GET /assess/surveys"}, h.surveysPage)
	srv.Handle(web.Route{Pattern: "GET /assess/surveys/{id}"}, h.surveyPage)
	srv.Handle(web.Route{Pattern: "POST /assess/surveys/{id}/answer"}, h.answerForm)
	srv.Handle(web.Route{Pattern: "GET /assess/tasks"}, h.tasksPage)
	srv.Handle(web.Route{Pattern: "POST /assess/tasks"}, h.applyForm)
	srv.Handle(web.Route{Pattern: "POST /assess/handdowns"}, h.handDownForm)
	srv.Handle(web.Route{Pattern: "POST /assess/handdowns/{id}/refuse"}, h.refuseForm)
	srv.Handle(web.Route{Pattern: "GET /assess/departments"}, h.departmentsPage)
	srv.Handle(web.Route{Pattern: "POST /assess/departments"}, h.createDepartmentForm)
	srv.Handle(web.Route{Pattern: "POST /assess/departments/{id}"}, h.changeDepartmentForm)
	srv.Handle(web.Route{Pattern: "GET /assess/static/assess.js", Access: web.Public}, h.script)
}

func (h *handler) apiTasks(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	ts, err := h.svc.Tasks(r.Context(), TaskQuery{List: List(q.Get("list")), State: TaskState(q.Get("state"))})
	return web.Reply(w, http.StatusOK, web.Items(ts), err)
}

func (h *handler) apiApply(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[TaskInput](r)
	if err != nil {
		return err
	}
	t, err := h.svc.Apply(r.Context(), in)
	return web.Reply(w, http.StatusCreated, t, err)
}

func (h *handler) apiAddToList(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[TaskInput](r)
	if err != nil {
		return err
	}
	t, err := h.svc.AddToList(r.Context(), in)
	return web.Reply(w, http.StatusCreated, t, err)
}

func (h *handler) apiDecide(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		d, err := web.Decode[Decision](r)
		if err != nil {
			return err
		}
		t, err := h.svc.Decide(r.Context(), id, d)
		return web.Reply(w, http.StatusOK, t, err)
	})
}

// reasonBody is a request that gives only a reason.
type reasonBody struct {
	Reason string `json:"reason"`
}

func (h *handler) apiRevoke(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[reasonBody](r)
		if err != nil {
			return err
		}
		t, err := h.svc.Revoke(r.Context(), id, in.Reason)
		return web.Reply(w, http.StatusOK, t, err)
	})
}

func (h *handler) apiHandDowns(w http.ResponseWriter, r *http.Request) error {
	hs, err := h.svc.HandDowns(r.Context(), HandDownState(r.URL.Query().Get("state")))
	return web.Reply(w, http.StatusOK, web.Items(hs), err)
}

func (h *handler) apiHandDown(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[HandDownInput](r)
	if err != nil {
		return err
	}
	hd, err := h.svc.HandDown(r.Context(), in)
	return web.Reply(w, http.StatusCreated, hd, err)
}

func (h *handler) apiRefuse(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[reasonBody](r)
		if err != nil {
			return err
		}
		hd, err := h.svc.RefuseHandDown(r.Context(), id, in.Reason)
		return web.Reply(w, http.StatusOK, hd, err)
	})
}

func (h *handler) apiBurden(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	rep, err := h.svc.Burden(r.Context(), q.Get("street"), q.Get("from"), q.Get("to"))
	return web.Reply(w, http.StatusOK, rep, err)
}

// apiDepartments lists a street's departments: ?street=CODE (all the
// caller's streets without it), ?active=true for the active ones only.
func (h *handler) apiDepartments(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	ds, err := h.svc.Departments(r.Context(), DepartmentQuery{Street: q.Get("street"), ActiveOnly: q.Get("active") == "true"})
	return web.Reply(w, http.StatusOK, web.Items(ds), err)
}

func (h *handler) apiCreateDepartment(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[DepartmentInput](r)
	if err != nil {
		return err
	}
	d, err := h.svc.CreateDepartment(r.Context(), in)
	return web.Reply(w, http.StatusCreated, d, err)
}

// apiChangeDepartment renames ({"name": …}) or deactivates
// ({"active": false}) a department, or both.
func (h *handler) apiChangeDepartment(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[DepartmentChange](r)
		if err != nil {
			return err
		}
		d, err := h.svc.ChangeDepartment(r.Context(), id, in)
		return web.Reply(w, http.StatusOK, d, err)
	})
}

func (h *handler) apiCertificates(w http.ResponseWriter, r *http.Request) error {
	cs, err := h.svc.Certificates(r.Context())
	return web.Reply(w, http.StatusOK, web.Items(cs), err)
}

func (h *handler) apiSaveCertificate(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[CertificateInput](r)
	if err != nil {
		return err
	}
	c, err := h.svc.SaveCertificate(r.Context(), in)
	return web.Reply(w, http.StatusOK, c, err)
}

func (h *handler) apiCheckCertificate(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	v, err := h.svc.CheckCommunityCertificate(r.Context(), q.Get("community"), q.Get("name"))
	return web.Reply(w, http.StatusOK, v, err)
}

func (h *handler) apiSurveys(w http.ResponseWriter, r *http.Request) error {
	vs, err := h.svc.Surveys(r.Context())
	return web.Reply(w, http.StatusOK, web.Items(vs), err)
}

func (h *handler) apiCreateSurvey(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[SurveyInput](r)
	if err != nil {
		return err
	}
	v, err := h.svc.CreateSurvey(r.Context(), in)
	return web.Reply(w, http.StatusCreated, v, err)
}

func (h *handler) apiOpenSurveys(w http.ResponseWriter, r *http.Request) error {
	vs, err := h.svc.OpenSurveys(r.Context())
	return web.Reply(w, http.StatusOK, web.Items(vs), err)
}

func (h *handler) apiSurvey(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		v, err := h.svc.Survey(r.Context(), id)
		return web.Reply(w, http.StatusOK, v, err)
	})
}

// answersBody is a resident's answers.
type answersBody struct {
	Answers []AnswerInput `json:"answers"`
}

func (h *handler) apiAnswer(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[answersBody](r)
		if err != nil {
			return err
		}
		err = h.svc.Answer(r.Context(), id, in.Answers)
		return web.Reply(w, http.StatusCreated, map[string]bool{"ok": true}, err)
	})
}

func (h *handler) apiPaper(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[PaperInput](r)
		if err != nil {
			return err
		}
		err = h.svc.EnterPaper(r.Context(), id, in)
		return web.Reply(w, http.StatusCreated, map[string]bool{"ok": true}, err)
	})
}

func (h *handler) apiResults(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		res, err := h.svc.Results(r.Context(), id)
		return web.Reply(w, http.StatusOK, res, err)
	})
}

func (h *handler) apiPeriods(w http.ResponseWriter, r *http.Request) error {
	ps, err := h.svc.Periods(r.Context())
	return web.Reply(w, http.StatusOK, web.Items(ps), err)
}

func (h *handler) apiCreatePeriod(w http.ResponseWriter, r *http.Request) error {
	in, err := web.Decode[PeriodInput](r)
	if err != nil {
		return err
	}
	p, err := h.svc.CreatePeriod(r.Context(), in)
	return web.Reply(w, http.StatusCreated, p, err)
}

func (h *handler) apiSetWeights(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[Weights](r)
		if err != nil {
			return err
		}
		p, err := h.svc.SetWeights(r.Context(), id, in)
		return web.Reply(w, http.StatusOK, p, err)
	})
}

func (h *handler) apiClosePeriod(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		p, err := h.svc.ClosePeriod(r.Context(), id)
		return web.Reply(w, http.StatusOK, p, err)
	})
}

func (h *handler) apiReopenPeriod(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		in, err := web.Decode[reasonBody](r)
		if err != nil {
			return err
		}
		p, err := h.svc.ReopenPeriod(r.Context(), id, in.Reason)
		return web.Reply(w, http.StatusOK, p, err)
	})
}

func (h *handler) apiScorecard(w http.ResponseWriter, r *http.Request) error {
	return web.WithID(r, func(id int64) error {
		c, err := h.svc.Scorecard(r.Context(), id)
		return web.Reply(w, http.StatusOK, c, err)
	})
}

func (h *handler) apiTrend(w http.ResponseWriter, r *http.Request) error {
	t, err := h.svc.Trend(r.Context(), r.URL.Query().Get("street"))
	return web.Reply(w, http.StatusOK, t, err)
}
