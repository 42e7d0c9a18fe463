package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/sendtime"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// variantSlot is one variant row of the touchpoint form (A–D): its form
// fields are v<Index>_on, _title, _body, _button, _timing, _offset…,
// _best_from…, _best_to….
type variantSlot struct {
	Index int
	Name  string
}

// variantSlots are the form's rows, one per possible variant.
func variantSlots() []variantSlot {
	out := make([]variantSlot, plan.MaxVariants)
	for i := range out {
		out[i] = variantSlot{Index: i, Name: plan.VariantNames[i]}
	}
	return out
}

func vfield(i int, name string) string { return "v" + strconv.Itoa(i) + "_" + name }

// setVariants fills the form's variant rows from vs (the default offsets
// of an unused row: the touchpoint's own).
func setVariants(f url.Values, tp store.Touchpoint, vs []store.TouchpointVariant) {
	for i := range plan.MaxVariants {
		setSigned(f, vfield(i, "offset"), tp.Offset)
		setSigned(f, vfield(i, "best_from"), tp.Offset-6*3600)
		setSigned(f, vfield(i, "best_to"), tp.Offset+6*3600)
		f.Set(vfield(i, "timing"), store.TimingSame)
	}
	for i, v := range vs {
		f.Set(vfield(i, "on"), "1")
		f.Set(vfield(i, "title"), v.Title)
		f.Set(vfield(i, "body"), v.Body)
		f.Set(vfield(i, "button"), v.Button)
		f.Set(vfield(i, "timing"), v.Timing)
		if v.Offset != nil {
			setSigned(f, vfield(i, "offset"), *v.Offset)
		}
		if v.BestFrom != nil && v.BestTo != nil {
			setSigned(f, vfield(i, "best_from"), *v.BestFrom)
			setSigned(f, vfield(i, "best_to"), *v.BestTo)
		}
	}
}

// variantsInput reads the form's checked variant rows into in (a form
// without the variants fieldset, or with it disabled, leaves them alone).
func variantsInput(f url.Values, in *command.TouchpointInput) {
	if f.Get("variants_form") != "1" {
		return
	}
	vs := []command.VariantInput{}
	for i := range plan.MaxVariants {
		if f.Get(vfield(i, "on")) == "" {
			continue
		}
		v := command.VariantInput{Title: f.Get(vfield(i, "title")), Body: f.Get(vfield(i, "body")), Button: f.Get(vfield(i, "button")),
			Timing: f.Get(vfield(i, "timing"))}
		field := fmt.Sprintf("variants[%d].", len(vs))
		read := func(name string) *int64 {
			n, errs := signedField(f, vfield(i, name))
			for _, e := range errs {
				e.Field = field + name
				in.Invalid = append(in.Invalid, e)
			}
			return n
		}
		switch v.Timing {
		case store.TimingOffset:
			v.OffsetMinutes = read("offset")
		case store.TimingBest:
			v.BestFromMinutes, v.BestToMinutes = read("best_from"), read("best_to")
		}
		vs = append(vs, v)
	}
	in.Variants = &vs
}

// variantMessages puts the variant field errors of ie on p, localized: a
// row's on "v<i>" (the i-th checked row is variant i), the others on
// "variants". It reports whether there were any.
func variantMessages(p *page, ie *command.InvalidError) bool {
	any := false
	for _, f := range ie.Fields {
		rest, ok := strings.CutPrefix(f.Field, "variants")
		if !ok {
			continue
		}
		any = true
		key := "tpv.err." + f.Code
		if !text.Has(key) {
			key = "tpv.err.invalid"
		}
		if !strings.HasPrefix(rest, "[") {
			p.fieldErrorf("variants", key, plan.MinVariants, plan.MaxVariants)
			continue
		}
		idx, _, _ := strings.Cut(strings.TrimPrefix(rest, "["), "]")
		i, _ := strconv.Atoi(idx)
		name := ""
		if i >= 0 && i < len(plan.VariantNames) {
			name = plan.VariantNames[i]
		}
		p.fieldText("v"+strconv.Itoa(i), text.T(p.Lang, "tpv.err.row", name, text.T(p.Lang, key, plan.MinVariants, plan.MaxVariants)))
	}
	return any
}

// variantView is one variant of a timeline row: its copy, when it fires,
// how many people it has so far and its card as sent.
type variantView struct {
	command.VariantView
	Timing string
	Basis  string
	Card   bot.Message
}

// timelineVariants loads the variants of the touchpoints of tps that have
// any, by touchpoint, each with a preview of its card.
func (c *Console) timelineVariants(ctx context.Context, lang text.Locale, sc sessionCtx, tps []store.Touchpoint) (map[uint64][]variantView, error) {
	var ids []uint64
	byID := map[uint64]store.Touchpoint{}
	for _, tp := range tps {
		if tp.Variants > 0 {
			ids = append(ids, tp.ID)
			byID[tp.ID] = tp
		}
	}
	out := map[uint64][]variantView{}
	if len(ids) == 0 {
		return out, nil
	}
	vs, err := c.commands().VariantsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, v := range vs {
		vv := variantView{VariantView: v, Timing: text.T(lang, "experiment:timing."+v.Timing)}
		if ch, err := sendtime.ParseBasis(v.SendBasis); v.SendBasis != "" && err == nil {
			vv.Basis = ch.Explain().In(lang)
		}
		card, err := c.variantCard(ctx, lang, sc, byID[v.TouchpointID], v.TouchpointVariant)
		if err != nil {
			// A kind whose card needs more than the session (a survey's)
			// still shows the variant's own copy.
			c.log().Warn("console: variant preview", "touchpoint", v.TouchpointID, "variant", v.Name, "err", err)
			card = bot.Message{Title: v.Title, Body: v.Body}
		}
		vv.Card = card
		out[v.TouchpointID] = append(out[v.TouchpointID], vv)
	}
	return out, nil
}

// variantCard renders variant v's card of tp as a recipient would get it
// (the Renderer's own rules; links point at delivery 0, which /l/ and
// /c/ refuse).
func (c *Console) variantCard(ctx context.Context, lang text.Locale, sc sessionCtx, tp store.Touchpoint, v store.TouchpointVariant) (bot.Message, error) {
	if c.d.Renderer == nil {
		return bot.Message{Title: v.Title, Body: v.Body}, nil
	}
	cc := bot.CardContext{Kind: tp.Kind, Note: tp.Note, Session: sc.Sess, Course: sc.Course, Key: "preview", Locale: lang, Touchpoint: tp}
	m, err := c.d.Renderer.Render(ctx, cc.WithVariant(bot.VariantCopy{ID: v.ID, Name: v.Name, Title: v.Title, Body: v.Body, Button: v.Button}))
	if err != nil {
		return bot.Message{}, fmt.Errorf("preview variant %s of touchpoint %d: %w", v.Name, tp.ID, err)
	}
	return m, nil
}

// experimentSection is one touchpoint experiment on the results page: its
// tables (the report's own, reports.Experiment.Tables) and notes.
type experimentSection struct {
	ID     uint64
	Enough bool
	Tables []*Table
	Notes  []string
}

// experimentSections renders the session report's experiments.
func experimentSections(lang text.Locale, rep *reports.SessionReport, loc *time.Location) []experimentSection {
	out := make([]experimentSection, 0, len(rep.Experiments))
	for _, e := range rep.Experiments {
		s := experimentSection{ID: e.TouchpointID, Enough: e.Result != nil && e.Result.Enough}
		for i, m := range e.Tables(lang, loc) {
			t := &Table{Key: fmt.Sprintf("experiment-%d-%d", e.TouchpointID, i), Title: m.Name, Columns: m.Header, Empty: text.T(lang, "tpv.none")}
			for _, row := range m.Rows {
				cells := make([]Cell, len(row))
				for j, x := range row {
					cells[j] = Cell{V: x.V, Digits: x.Digits}
				}
				t.Rows = append(t.Rows, cells)
			}
			s.Tables = append(s.Tables, t)
			s.Notes = append(s.Notes, m.Notes...)
		}
		out = append(out, s)
	}
	return out
}

// variantsFixed reports whether tp's variants can no longer change
// (anything of it was sent).
func (c *Console) variantsFixed(r *http.Request, tp store.Touchpoint) (bool, error) {
	n, err := c.commands().DeliveryCounts(r.Context(), tp.SessionID)
	if err != nil {
		return false, err
	}
	return n[tp.ID] > 0, nil
}

// variantPreview is one variant of the form's preview: when it would go
// out and its card.
type variantPreview struct {
	Name   string
	Timing string
	Fire   fireView
	Card   bot.Message
}

// previewVariants previews the form's variants (or the stored ones of
// touchpoint tpID when the form has none): each one's fire time as
// planning would choose it now and its card as the Renderer makes it.
func (c *Console) previewVariants(ctx context.Context, v *viewer, lang text.Locale, sc sessionCtx, tpID uint64, in command.TouchpointInput) ([]variantPreview, error) {
	if in.Variants != nil && len(*in.Variants) == 0 {
		return nil, nil
	}
	d, err := c.commands().PreviewVariants(ctx, v.actor(), sc.Sess.ID, tpID, in)
	if err != nil {
		return nil, err
	}
	out := make([]variantPreview, 0, len(d.Variants))
	for _, vf := range d.Variants {
		card, err := c.variantCard(ctx, lang, sc, d.Touchpoint, vf.Variant)
		if err != nil {
			c.log().Warn("console: variant preview", "variant", vf.Variant.Name, "err", err)
			card = bot.Message{Title: vf.Variant.Title, Body: vf.Variant.Body}
		}
		out = append(out, variantPreview{Name: vf.Variant.Name, Timing: text.T(lang, "experiment:timing."+vf.Variant.Timing),
			Fire: fireViews(lang, []plan.Fire{vf.Fire})[0], Card: card})
	}
	return out, nil
}
