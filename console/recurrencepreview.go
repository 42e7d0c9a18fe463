package console

import (
	"bytes"
	"errors"
	"net/http"
	"time"

	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/text"
)

// previewFires is how many fire times the touchpoint form previews.
const previewFires = 5

// tpPreview is the touchpoint form's fire-time preview: what
// command.Service.PreviewTouchpoint says the form as filled in would do.
type tpPreview struct {
	Fires     []fireView
	Recurring bool
	Loc       *time.Location
	Now       time.Time
	// Invalid is set when the form has errors (they are on the page).
	Invalid bool
	// Variants are the touchpoint's A/B variants as they would be sent:
	// each one's time and card.
	Variants []variantPreview
}

func (pv *tpPreview) code() int {
	if pv.Invalid {
		return http.StatusUnprocessableEntity
	}
	return http.StatusOK
}

// fireView is one previewed fire with, for a best-time touchpoint, its
// learned choice in words.
type fireView struct {
	plan.Fire
	Basis string
}

func fireViews(lang text.Locale, fires []plan.Fire) []fireView {
	out := make([]fireView, len(fires))
	for i, f := range fires {
		out[i].Fire = f
		if f.SendTime != nil {
			out[i].Basis = f.SendTime.Explain().In(lang)
		}
	}
	return out
}

// previewAsked reports whether the touchpoint form was posted with its
// 预览 button (or by the script that previews it live) rather than to save.
func previewAsked(r *http.Request) bool { return r.PostForm.Get("preview") == "1" }

// previewHeader marks the script's live preview requests: they get the
// preview fragment alone.
const previewHeader = "X-Learnloop-Preview"

// previewInvalidHeader marks a live preview fragment that lists the form's
// refusals instead of fire times.
const previewInvalidHeader = "X-Learnloop-Preview-Invalid"

// previewTouchpoint previews the posted touchpoint form (tpID 0: a new
// touchpoint of the session). A request of the live preview is answered
// with the fragment and false; otherwise the caller renders its page with
// the preview. Nothing is stored either way.
func (c *Console) previewTouchpoint(w http.ResponseWriter, r *http.Request, v *viewer, p *page, sc sessionCtx, tpID uint64) (*tpPreview, bool) {
	in := touchpointInput(r, sc.Loc)
	fires, err := c.commands().PreviewTouchpoint(r.Context(), v.actor(), sc.Sess.ID, tpID, in, previewFires)
	pv := &tpPreview{Fires: fireViews(p.Lang, fires), Recurring: in.Cron != nil && *in.Cron != "", Loc: sc.Loc, Now: c.now()}
	if err == nil {
		pv.Variants, err = c.previewVariants(r.Context(), v, p.Lang, sc, tpID, in)
	}
	switch {
	case err == nil:
	case errors.Is(err, command.ErrForbidden):
		c.forbidden(w, r, v)
		return nil, false
	case tpMessage(p, err):
		pv.Invalid, pv.Fires = true, nil
	default:
		c.internal(w, r, v, err)
		return nil, false
	}
	if r.Header.Get(previewHeader) != "1" {
		return pv, true
	}
	var buf bytes.Buffer
	if err := c.pages[p.Lang]["timeline"].ExecuteTemplate(&buf, "tp-preview", map[string]any{"P": p, "Preview": pv}); err != nil {
		c.internal(w, r, v, err)
		return nil, false
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// The live preview runs while the form is half filled in (a weekly rule
	// before its first day is ticked): a refusal is the fragment's content,
	// not a failed request, so it answers 200 and says so in a header (a
	// 422 would be logged by the browser as a failed resource on every
	// keystroke). The page's own preview keeps its 422.
	if pv.Invalid {
		w.Header().Set(previewInvalidHeader, "1")
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	return nil, false
}
