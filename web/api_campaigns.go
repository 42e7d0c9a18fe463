package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/learnloop/learnloop/campaigns"
	"github.com/learnloop/learnloop/text"
)

// campaignRoutes registers the campaign, conversion and tag endpoints.
func (s *Server) campaignRoutes(mux *http.ServeMux) {
	if s.Campaigns == nil {
		return
	}
	mux.HandleFunc("GET /campaigns", s.listCampaigns)
	mux.HandleFunc("POST /campaigns", s.createCampaign)
	mux.HandleFunc("POST /campaigns/audience-count", s.countAudience)
	mux.HandleFunc("GET /campaigns/send-time", s.estimateSendTime)
	mux.HandleFunc("GET /campaigns/{id}", withID(s.getCampaign))
	mux.HandleFunc("PUT /campaigns/{id}", withID(s.updateCampaign))
	mux.HandleFunc("GET /campaigns/{id}/audience", withID(s.campaignAudience))
	mux.HandleFunc("GET /campaigns/{id}/preview", withID(s.previewCampaign))
	mux.HandleFunc("POST /campaigns/{id}/pause", s.campaignState("pause"))
	mux.HandleFunc("POST /campaigns/{id}/resume", s.campaignState("resume"))
	mux.HandleFunc("POST /campaigns/{id}/cancel", s.campaignState("cancel"))
	mux.HandleFunc("GET /campaigns/{id}/report", withID(s.campaignReport))
	mux.HandleFunc("POST /conversions", s.postConversion)
	mux.HandleFunc("PUT /employees/{id}/tags", withID(s.putTags))
}

// campaignError answers a campaigns error like a command's (the one
// mapping), with the field codes mapped onto the API's documented ones.
func (s *Server) campaignError(w http.ResponseWriter, r *http.Request, err error) {
	var inv *campaigns.InvalidError
	if errors.As(err, &inv) {
		fs := make([]campaigns.FieldError, len(inv.Fields))
		for i, f := range inv.Fields {
			f.Code = problemCode(f.Code)
			fs[i] = f
		}
		err = &campaigns.InvalidError{Fields: fs}
	}
	s.commandError(w, r, err, nil)
}

// problemCodes maps the campaigns' field codes onto the API's documented
// errors[].code values (the message keeps the detail).
var problemCodes = map[string]string{
	campaigns.CodeRequired: "required", campaigns.CodeEmptyRule: "required",
	campaigns.CodeTooLong: "too_long",
	campaigns.CodeTooMany: "out_of_range", campaigns.CodeOutOfRange: "out_of_range", campaigns.CodePast: "out_of_range",
	campaigns.CodeFuture: "out_of_range", campaigns.CodeTooFar: "out_of_range", campaigns.CodeWindowTooLong: "out_of_range",
	campaigns.CodeBadURL: "bad_url", campaigns.CodeBadZone: "bad_zone", campaigns.CodeBadChoice: "bad_choice",
	campaigns.CodeBadTag: "bad_format", campaigns.CodeBadEvent: "bad_format",
	campaigns.CodeWindowOrder: "end_before_start",
	campaigns.CodeConflict:    "not_allowed", campaigns.CodeNeedsOneOff: "not_allowed", campaigns.CodeOutsideWindow: "not_allowed",
	campaigns.CodeBadPerson: "not_allowed",
	campaigns.CodeUnknown:   "unknown",
}

func problemCode(code string) string {
	if c, ok := problemCodes[code]; ok {
		return c
	}
	return "bad_value"
}

func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request) {
	p, ok := readPage(w, r)
	if !ok {
		return
	}
	cs, err := s.Campaigns.List(r.Context(), p.offset, p.limit+1)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writePage(w, p, nil, "campaigns", cs)
}

func (s *Server) createCampaign(w http.ResponseWriter, r *http.Request) {
	var in campaigns.Input
	if !decode(w, r, &in) {
		return
	}
	c, err := s.Campaigns.Create(r.Context(), in, actor(r.Context()))
	if err != nil {
		s.campaignError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, c)
}

func (s *Server) countAudience(w http.ResponseWriter, r *http.Request) {
	var a campaigns.Audience
	if !decode(w, r, &a) {
		return
	}
	n, err := s.Campaigns.Count(r.Context(), a)
	if err != nil {
		s.campaignError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": n, "counted_at": s.now()})
}

func (s *Server) estimateSendTime(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	loc := s.Location
	if z := q.Get("time_zone"); z != "" {
		l, err := time.LoadLocation(z)
		if err != nil || z == "Local" {
			apiError(w, http.StatusBadRequest, "bad_query", text.T(text.EN, "web:detail.bad_zone"), nil)
			return
		}
		loc = l
	}
	p := q.Get("platform")
	switch p {
	case "", "wecom", "feishu", "dingtalk", "simulator":
	default:
		apiError(w, http.StatusBadRequest, "bad_query", text.T(text.EN, "web:detail.bad_platform"), nil)
		return
	}
	est, err := s.Campaigns.EstimateSendTime(r.Context(), campaigns.SendTimeQuery{Department: q.Get("department"), Platform: p, Location: loc})
	if err != nil {
		s.campaignError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, est)
}

func (s *Server) updateCampaign(w http.ResponseWriter, r *http.Request, id uint64) {
	var in campaigns.Input
	if !decode(w, r, &in) {
		return
	}
	c, err := s.Campaigns.Update(r.Context(), id, in, actor(r.Context()))
	if err != nil {
		s.campaignError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) getCampaign(w http.ResponseWriter, r *http.Request, id uint64) {
	c, err := s.Campaigns.Get(r.Context(), id)
	if err != nil {
		s.campaignError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) campaignAudience(w http.ResponseWriter, r *http.Request, id uint64) {
	c, err := s.Campaigns.Get(r.Context(), id)
	if err != nil {
		s.campaignError(w, r, err)
		return
	}
	n, err := s.Campaigns.Count(r.Context(), c.Audience)
	if err != nil {
		s.campaignError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": n, "counted_at": s.now()})
}

func (s *Server) previewCampaign(w http.ResponseWriter, r *http.Request, id uint64) {
	vs, err := s.Campaigns.Preview(r.Context(), s.Renderer, id)
	if err != nil {
		s.campaignError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"variants": vs})
}

func (s *Server) campaignState(op string) http.HandlerFunc {
	return withID(func(w http.ResponseWriter, r *http.Request, id uint64) {
		var (
			c   campaigns.Campaign
			err error
		)
		switch op {
		case "pause", "resume":
			c, err = s.Campaigns.SetPaused(r.Context(), id, op == "pause", actor(r.Context()))
		default:
			c, err = s.Campaigns.Cancel(r.Context(), id, actor(r.Context()))
		}
		if err != nil {
			s.campaignError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, c)
	})
}

func (s *Server) campaignReport(w http.ResponseWriter, r *http.Request, id uint64) {
	var opts campaigns.ReportOptions
	for _, q := range []struct {
		name string
		dst  *time.Time
	}{{"from", &opts.From}, {"to", &opts.To}} {
		if v := r.URL.Query().Get(q.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				apiError(w, http.StatusBadRequest, "bad_query", text.T(text.EN, "web:detail.bad_time", q.name), nil)
				return
			}
			*q.dst = t
		}
	}
	if !opts.From.IsZero() && !opts.To.IsZero() && opts.To.Before(opts.From) {
		apiError(w, http.StatusBadRequest, "bad_query", text.T(text.EN, "web:detail.to_before_from"), nil)
		return
	}
	rep, err := s.Campaigns.Report(r.Context(), id, opts)
	if err != nil {
		s.campaignError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (s *Server) postConversion(w http.ResponseWriter, r *http.Request) {
	var in campaigns.ConversionInput
	if !decode(w, r, &in) {
		return
	}
	res, err := s.Campaigns.RecordConversion(r.Context(), in, campaigns.SourceAPI)
	if err != nil {
		s.campaignError(w, r, err)
		return
	}
	code := http.StatusCreated
	if res.Duplicate {
		code = http.StatusOK
	}
	writeJSON(w, code, res)
}

func (s *Server) putTags(w http.ResponseWriter, r *http.Request, id uint64) {
	var in struct {
		Tags []string `json:"tags"`
	}
	if !decode(w, r, &in) {
		return
	}
	out, err := s.Campaigns.SetTags(r.Context(), id, in.Tags, actor(r.Context()))
	if err != nil {
		s.campaignError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
