package web

import (
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
	mux.HandleFunc("GET /campaigns", pageOf(s, "campaigns", s.listCampaigns))
	mux.HandleFunc("POST /campaigns", opBody(s, http.StatusCreated, s.createCampaign))
	mux.HandleFunc("POST /campaigns/audience-count", opBody(s, http.StatusOK, s.countAudience))
	mux.HandleFunc("GET /campaigns/send-time", s.estimateSendTime)
	mux.HandleFunc("GET /campaigns/{id}", opID(s, http.StatusOK, s.getCampaign))
	mux.HandleFunc("PUT /campaigns/{id}", opIDBody(s, http.StatusOK, s.updateCampaign))
	mux.HandleFunc("GET /campaigns/{id}/audience", opID(s, http.StatusOK, s.campaignAudience))
	mux.HandleFunc("GET /campaigns/{id}/preview", opID(s, http.StatusOK, s.previewCampaign))
	mux.HandleFunc("POST /campaigns/{id}/pause", opID(s, http.StatusOK, s.campaignState("pause")))
	mux.HandleFunc("POST /campaigns/{id}/resume", opID(s, http.StatusOK, s.campaignState("resume")))
	mux.HandleFunc("POST /campaigns/{id}/cancel", opID(s, http.StatusOK, s.campaignState("cancel")))
	mux.HandleFunc("GET /campaigns/{id}/report", opID(s, http.StatusOK, s.campaignReport))
	mux.HandleFunc("POST /conversions", s.postConversion)
	mux.HandleFunc("PUT /employees/{id}/tags", opIDBody(s, http.StatusOK, s.putTags))
}

// campaignResult is a campaigns call's result with its error answerable like
// a command's (the one mapping): the field codes of an invalid input mapped
// onto the API's documented ones.
func campaignResult[T any](v T, err error) (T, error) {
	return v, withFields(err, func(f campaigns.FieldError) campaigns.FieldError {
		f.Code = problemCode(f.Code)
		return f
	})
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

func (s *Server) listCampaigns(r *http.Request, p page) ([]campaigns.Campaign, error) {
	return s.Campaigns.List(r.Context(), p.offset, p.limit+1)
}

func (s *Server) createCampaign(r *http.Request, in campaigns.Input) (campaigns.Campaign, error) {
	return campaignResult(s.Campaigns.Create(r.Context(), in, actor(r.Context())))
}

// audienceCountJSON is an audience's live count.
type audienceCountJSON struct {
	Count     int64     `json:"count"`
	CountedAt time.Time `json:"counted_at"`
}

// countAudience counts an audience now.
func (s *Server) countAudience(r *http.Request, a campaigns.Audience) (audienceCountJSON, error) {
	n, err := s.Campaigns.Count(r.Context(), a)
	if err != nil {
		return campaignResult(audienceCountJSON{}, err)
	}
	return audienceCountJSON{Count: n, CountedAt: s.now()}, nil
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
	est, err := campaignResult(s.Campaigns.EstimateSendTime(r.Context(), campaigns.SendTimeQuery{Department: q.Get("department"), Platform: p, Location: loc}))
	answer(s, w, r, http.StatusOK, est, err)
}

func (s *Server) updateCampaign(r *http.Request, id uint64, in campaigns.Input) (campaigns.Campaign, error) {
	return campaignResult(s.Campaigns.Update(r.Context(), id, in, actor(r.Context())))
}

func (s *Server) getCampaign(r *http.Request, id uint64) (campaigns.Campaign, error) {
	return campaignResult(s.Campaigns.Get(r.Context(), id))
}

// campaignAudience counts a campaign's audience now.
func (s *Server) campaignAudience(r *http.Request, id uint64) (audienceCountJSON, error) {
	c, err := s.Campaigns.Get(r.Context(), id)
	if err != nil {
		return audienceCountJSON{}, err
	}
	return s.countAudience(r, c.Audience)
}

// campaignPreviewJSON is each variant of a campaign as its people would
// see it.
type campaignPreviewJSON struct {
	Variants []campaigns.VariantPreview `json:"variants"`
}

func (s *Server) previewCampaign(r *http.Request, id uint64) (campaignPreviewJSON, error) {
	vs, err := s.Campaigns.Preview(r.Context(), s.Renderer, id)
	if err != nil {
		return campaignPreviewJSON{}, err
	}
	return campaignPreviewJSON{Variants: vs}, nil
}

func (s *Server) campaignState(op string) func(r *http.Request, id uint64) (campaigns.Campaign, error) {
	return func(r *http.Request, id uint64) (campaigns.Campaign, error) {
		if op == "cancel" {
			return campaignResult(s.Campaigns.Cancel(r.Context(), id, actor(r.Context())))
		}
		return campaignResult(s.Campaigns.SetPaused(r.Context(), id, op == "pause", actor(r.Context())))
	}
}

func (s *Server) campaignReport(r *http.Request, id uint64) (*campaigns.Report, error) {
	var opts campaigns.ReportOptions
	for _, q := range []struct {
		name string
		dst  *time.Time
	}{{"from", &opts.From}, {"to", &opts.To}} {
		if v := r.URL.Query().Get(q.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return nil, badQuery("web:detail.bad_time", q.name)
			}
			*q.dst = t
		}
	}
	if !opts.From.IsZero() && !opts.To.IsZero() && opts.To.Before(opts.From) {
		return nil, badQuery("web:detail.to_before_from")
	}
	return campaignResult(s.Campaigns.Report(r.Context(), id, opts))
}

func (s *Server) postConversion(w http.ResponseWriter, r *http.Request) {
	var in campaigns.ConversionInput
	if !decode(w, r, &in) {
		return
	}
	res, err := campaignResult(s.Campaigns.RecordConversion(r.Context(), in, campaigns.SourceAPI))
	answer(s, w, r, createdUnless(res.Duplicate), res, err)
}

// tagsInput replaces an employee's tags.
type tagsInput struct {
	Tags []string `json:"tags"`
}

func (s *Server) putTags(r *http.Request, id uint64, in tagsInput) (campaigns.Tags, error) {
	return campaignResult(s.Campaigns.SetTags(r.Context(), id, in.Tags, actor(r.Context())))
}
