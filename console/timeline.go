package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/sendtime"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// tpRow is one touchpoint on the timeline.
type tpRow struct {
	TP store.Touchpoint
	// When is the rule ("开课前 15 分钟", a cron spec, an absolute time).
	When string
	// Due is the time the rule gives; Fire is the actual fire time after
	// quiet hours and holidays (RunAt). Moved is set when they differ.
	Due   time.Time
	Fire  time.Time
	Moved bool
	// Basis is a best-time touchpoint's stored choice in words.
	Basis string
	// Next are the next fire times of a recurring touchpoint.
	Next       []time.Time
	Deliveries int64
	// Variants are the touchpoint's A/B variants with their split and
	// cards (none: no experiment).
	Variants  []variantView
	Past      bool
	CanEdit   bool
	CanSend   bool
	CanPause  bool
	CanResume bool
	CanDelete bool
}

type timelineData struct {
	Rows      []tpRow
	Loc       *time.Location
	Now       time.Time
	Start     time.Time
	End       time.Time
	Kinds     []string
	Audiences []string
	Anchors   []string
	Write     bool
	Table     *Table
	// NowIndex is where the "now" marker goes among Rows.
	NowIndex int
	// Preview is the add form's fire-time preview, once asked for.
	Preview *tpPreview
	// Slots are the form's variant rows.
	Slots []variantSlot
}

var audiences = []string{store.AudienceAll, store.AudienceNotCheckedIn, store.AudienceCheckedIn}
var anchors = []string{store.AnchorStart, store.AnchorEnd, store.AnchorAbsolute}

// formChoices are the kinds and audiences a touchpoint form offers
// (command.Service.Choices: the ones the command accepts).
func (c *Console) formChoices(tp *store.Touchpoint) (kinds, auds []string) {
	return c.commands().Choices(tp)
}

// describeWhen renders a touchpoint's rule in words.
func describeWhen(lang text.Locale, tp store.Touchpoint, loc *time.Location) string {
	if tp.CronSpec != "" {
		return describeRecurrence(lang, parseRecurrence(tp.CronSpec))
	}
	if tp.Anchor == store.AnchorAbsolute {
		if tp.At == nil {
			return ""
		}
		return tp.At.In(loc).Format("2006-01-02 15:04")
	}
	when := describeOffset(lang, tp.Anchor, tp.Offset)
	if tp.BestTime() {
		return text.T(lang, "tp.best_when", describeOffset(lang, tp.Anchor, *tp.BestFrom), describeOffset(lang, tp.Anchor, *tp.BestTo), when)
	}
	return when
}

// describeOffset says seconds relative to an anchor ("开课前 2 天").
func describeOffset(lang text.Locale, anchor string, seconds int64) string {
	off := time.Duration(seconds) * time.Second
	sign := "after"
	if off < 0 {
		sign, off = "before", -off
	}
	return text.T(lang, "tp."+anchor+"_"+sign, formatDuration(lang, off))
}

func formatDuration(lang text.Locale, d time.Duration) string {
	d = d.Round(time.Minute)
	days := int(d / (24 * time.Hour))
	d -= time.Duration(days) * 24 * time.Hour
	h := int(d / time.Hour)
	m := int((d - time.Duration(h)*time.Hour) / time.Minute)
	var parts []string
	if days > 0 {
		parts = append(parts, text.T(lang, "dur.days", days))
	}
	if h > 0 {
		parts = append(parts, text.T(lang, "dur.hours", h))
	}
	if m > 0 || len(parts) == 0 {
		parts = append(parts, text.T(lang, "dur.minutes", m))
	}
	return strings.Join(parts, " ")
}

func (c *Console) timelineRows(r *http.Request, v *viewer, lang text.Locale, sc sessionCtx) ([]tpRow, *Table, error) {
	tps, err := c.commands().ListTouchpoints(r.Context(), c.reader(r.Context(), v), sc.Sess.ID, command.Page{})
	if err != nil {
		return nil, nil, err
	}
	byTP, err := c.commands().DeliveryCounts(r.Context(), sc.Sess.ID)
	if err != nil {
		return nil, nil, err
	}
	variants, err := c.timelineVariants(r.Context(), lang, sc, tps)
	if err != nil {
		return nil, nil, err
	}
	now := c.now()
	write := sc.Access == accessWrite && sc.Sess.Status != store.SessionCancelled
	rows := make([]tpRow, 0, len(tps))
	t := &Table{Key: "timeline", Title: text.T(lang, "table.timeline"), Empty: text.T(lang, "timeline.empty"),
		Columns: []string{text.T(lang, "col.id"), text.T(lang, "col.kind"), text.T(lang, "col.when"), text.T(lang, "col.audience"), text.T(lang, "col.due"),
			text.T(lang, "col.fire_at"), text.T(lang, "col.moved"), text.T(lang, "col.status"), text.T(lang, "col.fired_at"), text.T(lang, "col.deliveries"), text.T(lang, "col.note")}}
	for _, tp := range tps {
		if tp.Note == "time already passed when planned" { // the Planner's words
			tp.Note = text.T(lang, "tp.note_passed")
		}
		row := tpRow{TP: tp, When: describeWhen(lang, tp, sc.Loc), Fire: tp.RunAt, Deliveries: byTP[tp.ID], Variants: variants[tp.ID]}
		if due, err := plan.Due(tp, sc.Sess, now); err == nil {
			if ch, err := sendtime.ParseBasis(tp.SendBasis); tp.SendBasis != "" && err == nil {
				// Learned: only quiet hours move it from the choice.
				due, row.Basis = ch.At, ch.Explain().In(lang)
			}
			row.Due = due
			if tp.CronSpec == "" && tp.Status == store.TouchpointScheduled {
				row.Moved = !due.Equal(tp.RunAt) && tp.RunAt.After(due)
			}
		}
		if tp.CronSpec != "" && tp.Status == store.TouchpointScheduled {
			if next, err := c.d.Planner.Preview(r.Context(), tp, sc.Sess, 3); err == nil {
				row.Next = next
			}
		}
		row.Past = tp.Status == store.TouchpointFired || tp.RunAt.Before(now)
		editable := tp.Status != store.TouchpointCancelled && (tp.Status != store.TouchpointFired || tp.CronSpec != "")
		row.CanEdit = write && editable
		row.CanSend = write && tp.Status != store.TouchpointCancelled && tp.Status != store.TouchpointPaused
		row.CanPause = write && tp.Status == store.TouchpointScheduled
		if write && tp.Status == store.TouchpointFired {
			// The variants still waiting for their own time can be held.
			waiting, err := c.d.Planner.VariantsWaiting(r.Context(), tp)
			if err != nil {
				return nil, t, err
			}
			row.CanPause = waiting
		}
		row.CanResume = write && tp.Status == store.TouchpointPaused
		row.CanDelete = write && tp.Status != store.TouchpointCancelled
		rows = append(rows, row)
		moved := Cell{V: row.Moved}
		if row.Moved {
			moved.Label = text.T(lang, "timeline.moved")
		}
		t.Rows = append(t.Rows, []Cell{C(tp.ID), {V: tp.Kind, Label: text.Enum(lang, "kind", tp.Kind)}, C(row.When),
			{V: tp.Audience, Label: text.Enum(lang, "audience", tp.Audience)}, C(row.Due), C(tp.RunAt), moved,
			{V: tp.Status, Label: text.Enum(lang, "tpstatus", tp.Status)}, C(tp.FiredAt), C(row.Deliveries), C(tp.Note)})
	}
	return rows, t, nil
}

func (c *Console) timelinePage(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, p, ok := c.sessionTab(w, r, v, accessWrite, "timeline.title", "timeline")
	if !ok {
		return
	}
	p.Form = url.Values{"kind": {bot.KindCustom}, "anchor": {store.AnchorStart}, "audience": {store.AudienceAll}}
	setOffset(p.Form, -60*60)
	setBest(p.Form, store.Touchpoint{})
	setRecurrence(p.Form, recurrence{Repeat: repeatNone})
	setVariants(p.Form, store.Touchpoint{Offset: -60 * 60}, nil)
	c.renderTimeline(w, r, v, p, sc, http.StatusOK, nil)
}

func (c *Console) renderTimeline(w http.ResponseWriter, r *http.Request, v *viewer, p *page, sc sessionCtx, code int, preview *tpPreview) {
	rows, t, err := c.timelineRows(r, v, p.Lang, sc)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	if c.exportTable(w, r, v, sc.Loc, fmt.Sprintf("session-%d", sc.Sess.ID), t) {
		return
	}
	now := c.now()
	d := timelineData{Rows: rows, Loc: sc.Loc, Now: now, Start: sc.Sess.StartsAt, End: sc.Sess.EndsAt,
		Kinds: bot.CardKinds, Audiences: audiences, Anchors: anchors, Write: sc.Access == accessWrite && sc.Sess.Status != store.SessionCancelled, Table: t,
		Preview: preview, Slots: variantSlots()}
	d.NowIndex = len(rows)
	for i, row := range rows {
		if row.TP.RunAt.After(now) {
			d.NowIndex = i
			break
		}
	}
	p.Data = d
	c.render(w, r, code, "timeline", p)
}

// tpKeys are the touchpoint form's messages.
var tpKeys = errorKeys{
	"repeat": "tp.err_repeat", "repeat_time": "tp.err_repeat_time", "repeat_day": "tp.err_repeat_day",
	"repeat_days": "tp.err_repeat_days", "cron/required": "tp.err_cron_empty",
	"kind": "tp.err_kind", "anchor": "tp.err_anchor", "audience": "tp.err_audience", "cron": "tp.err_cron",
	"at": "tp.err_at", "at/bad_date": "session.err_date", "offset": "tp.err_offset",
	"offset/outside_window": "tp.err_outside_window", "best_from": "tp.err_best", "best_to": "tp.err_best",
	"best_from/best_not_allowed": "tp.err_best_kind", "best_to/window_order": "tp.err_window_order", "best_to/window_too_long": "tp.err_window_long",
	"note": "tp.err_note", "note/too_long": "tp.err_note_long",
}

// touchpointInput parses the touchpoint form for command.CreateTouchpoint
// and UpdateTouchpoint: the repeat picker becomes the cron spec, the offset
// (value, unit, before/after) minutes, and times are read in the session's
// zone.
func touchpointInput(r *http.Request, loc *time.Location) command.TouchpointInput {
	f := r.PostForm
	str := func(name string) *string { v := f.Get(name); return &v }
	in := command.TouchpointInput{Kind: str("kind"), Anchor: str("anchor"), Audience: str("audience"), Note: str("note")}
	rec, errs := recurrenceForm(f)
	in.Invalid = append(in.Invalid, errs...)
	if errs == nil {
		spec := rec.cron()
		in.Cron = &spec
	}
	if f.Get("anchor") == store.AnchorAbsolute {
		if s := strings.TrimSpace(f.Get("at")); s != "" {
			if at, err := parseLocal(s, loc); err != nil {
				in.Invalid = append(in.Invalid, command.FieldError{Field: "at", Code: command.CodeBadFormat})
			} else {
				in.At = &at
			}
		}
	} else {
		off, errs := offsetField(f)
		in.OffsetMinutes = off
		in.Invalid = append(in.Invalid, errs...)
	}
	if f.Get("anchor") == store.AnchorAbsolute || in.Cron != nil && *in.Cron != "" {
		// The best-time fieldset is hidden for these: its choice does not
		// apply, so a window left chosen is turned off.
		if f.Has("timing") {
			off := false
			in.BestTime = &off
		}
	} else {
		bestFields(f, &in)
	}
	variantsInput(f, &in)
	return in
}

// tpMessage puts a touchpoint command's refusal on p; false means the
// error is not the person's doing.
func tpMessage(p *page, err error) bool {
	var ie *command.InvalidError
	if errors.As(err, &ie) && ie.Has("touchpoint") {
		for _, f := range ie.Fields {
			p.fieldText("", text.T(p.Lang, "tp.err_invalid", f.Message))
		}
		return true
	}
	if ie != nil && variantMessages(p, ie) {
		rest := &command.InvalidError{}
		for _, f := range ie.Fields {
			if !strings.HasPrefix(f.Field, "variants") {
				rest.Fields = append(rest.Fields, f)
			}
		}
		p.fieldErrors(rest, tpKeys)
		return true
	}
	if p.fieldErrors(err, tpKeys) {
		return true
	}
	switch {
	case errors.Is(err, command.ErrCancelled):
		p.fieldError("", "session.err_cancelled")
	case errors.Is(err, command.ErrConflict):
		p.fieldError("", "tp.err_conflict")
	case errors.Is(err, command.ErrNotFound):
		p.fieldError("", "error.not_found")
	default:
		return false
	}
	return true
}

// planMessage turns a command's refusal of a timeline action into an
// inline message, or returns "" when the error is not the person's doing.
func planMessage(lang text.Locale, err error) string {
	var ie *command.InvalidError
	switch {
	case errors.As(err, &ie):
		return text.T(lang, "tp.err_invalid", ie.Error())
	case errors.Is(err, plan.ErrInvalid):
		return text.T(lang, "tp.err_invalid", err.Error())
	case errors.Is(err, command.ErrCancelled):
		return text.T(lang, "session.err_cancelled")
	case errors.Is(err, command.ErrConflict), errors.Is(err, plan.ErrConflict):
		return text.T(lang, "tp.err_conflict")
	case errors.Is(err, command.ErrNotFound):
		return text.T(lang, "error.not_found")
	}
	return ""
}

func (c *Console) touchpointCreate(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, p, ok := c.sessionTab(w, r, v, accessWrite, "timeline.title", "timeline")
	if !ok {
		return
	}
	if previewAsked(r) {
		if pv, ok := c.previewTouchpoint(w, r, v, p, sc, 0); ok {
			c.renderTimeline(w, r, v, p, sc, pv.code(), pv)
		}
		return
	}
	_, err := c.commands().CreateTouchpoint(r.Context(), v.actor(), sc.Sess.ID, touchpointInput(r, sc.Loc))
	if err == nil {
		c.redirectOK(w, r, fmt.Sprintf("/sessions/%d/timeline", sc.Sess.ID), "tp_created")
		return
	}
	if !tpMessage(p, err) {
		c.internal(w, r, v, err)
		return
	}
	c.renderTimeline(w, r, v, p, sc, http.StatusUnprocessableEntity, nil)
}

// loadTouchpoint loads the {id} touchpoint and its session with access.
func (c *Console) loadTouchpoint(w http.ResponseWriter, r *http.Request, v *viewer) (store.Touchpoint, sessionCtx, bool) {
	var tp store.Touchpoint
	id, ok := pathID(r)
	if !ok {
		c.notFound(w, r, v)
		return tp, sessionCtx{}, false
	}
	tp, err := c.commands().Touchpoint(r.Context(), c.reader(r.Context(), v), id)
	if errors.Is(err, command.ErrNotFound) {
		c.notFound(w, r, v)
		return tp, sessionCtx{}, false
	}
	if err != nil {
		c.internal(w, r, v, err)
		return tp, sessionCtx{}, false
	}
	sc, ok := c.loadSession(w, r, v, tp.SessionID, accessWrite)
	return tp, sc, ok
}

type tpFormData struct {
	TP        store.Touchpoint
	Kinds     []string
	Audiences []string
	Anchors   []string
	Loc       *time.Location
	// Preview is the fire-time preview, once asked for.
	Preview *tpPreview
	// Slots are the form's variant rows; VariantsFixed is set once
	// anything of the touchpoint was sent (its variants cannot change).
	Slots         []variantSlot
	VariantsFixed bool
}

func (c *Console) touchpointEditPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	tp, sc, ok := c.loadTouchpoint(w, r, v)
	if !ok {
		return
	}
	p := c.tabPage(r, v, sc, "tp.edit", "timeline")
	p.Form = url.Values{"kind": {tp.Kind}, "anchor": {tp.Anchor}, "audience": {tp.Audience}, "note": {tp.Note}}
	setOffset(p.Form, tp.Offset)
	setBest(p.Form, tp)
	setRecurrence(p.Form, parseRecurrence(tp.CronSpec))
	if tp.At != nil {
		p.Form.Set("at", tp.At.In(sc.Loc).Format(localLayout))
	}
	vs, err := c.commands().TouchpointVariants(r.Context(), v.actor(), tp.ID)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	rows := make([]store.TouchpointVariant, len(vs))
	for i, x := range vs {
		rows[i] = x.TouchpointVariant
	}
	setVariants(p.Form, tp, rows)
	fixed, err := c.variantsFixed(r, tp)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	kinds, auds := c.formChoices(&tp)
	p.Data = tpFormData{TP: tp, Kinds: kinds, Audiences: auds, Anchors: anchors, Loc: sc.Loc, Slots: variantSlots(), VariantsFixed: fixed}
	c.render(w, r, http.StatusOK, "touchpoint_form", p)
}

func (c *Console) touchpointUpdate(w http.ResponseWriter, r *http.Request, v *viewer) {
	tp, sc, ok := c.loadTouchpoint(w, r, v)
	if !ok {
		return
	}
	p := c.tabPage(r, v, sc, "tp.edit", "timeline")
	kinds, auds := c.formChoices(&tp)
	if previewAsked(r) {
		if pv, ok := c.previewTouchpoint(w, r, v, p, sc, tp.ID); ok {
			p.Data = tpFormData{TP: tp, Kinds: kinds, Audiences: auds, Anchors: anchors, Loc: sc.Loc, Preview: pv, Slots: variantSlots()}
			c.render(w, r, pv.code(), "touchpoint_form", p)
		}
		return
	}
	_, err := c.commands().UpdateTouchpoint(r.Context(), v.actor(), tp.ID, touchpointInput(r, sc.Loc))
	if err == nil {
		c.redirectOK(w, r, fmt.Sprintf("/sessions/%d/timeline", sc.Sess.ID), "tp_saved")
		return
	}
	if !tpMessage(p, err) {
		c.internal(w, r, v, err)
		return
	}
	p.Data = tpFormData{TP: tp, Kinds: kinds, Audiences: auds, Anchors: anchors, Loc: sc.Loc, Slots: variantSlots()}
	c.render(w, r, http.StatusUnprocessableEntity, "touchpoint_form", p)
}

// tpAction runs one timeline action after a confirmation, with an audit
// entry, and goes back to the timeline with a flash or an error message.
func (c *Console) tpAction(w http.ResponseWriter, r *http.Request, v *viewer, confirmKey, flash string, run func(tp store.Touchpoint, sc sessionCtx) error) {
	tp, sc, ok := c.loadTouchpoint(w, r, v)
	if !ok {
		return
	}
	back := fmt.Sprintf("/sessions/%d/timeline", sc.Sess.ID)
	lang := langOf(r)
	if sc.Sess.Status == store.SessionCancelled {
		c.renderError(w, r, v, http.StatusConflict, "session.err_cancelled")
		return
	}
	if !c.confirmed(w, r, v, back, text.T(lang, confirmKey, text.Enum(lang, "kind", tp.Kind), tp.ID)) {
		return
	}
	if err := run(tp, sc); err != nil {
		if msg := planMessage(lang, err); msg != "" {
			c.renderError(w, r, v, http.StatusConflict, "tp.err_action", msg)
			return
		}
		c.internal(w, r, v, err)
		return
	}
	c.redirectOK(w, r, back, flash)
}

func (c *Console) touchpointSendNow(w http.ResponseWriter, r *http.Request, v *viewer) {
	c.tpAction(w, r, v, "tp.confirm_send", "tp_sent", func(tp store.Touchpoint, sc sessionCtx) error {
		_, err := c.commands().SendNow(r.Context(), v.actor(), tp.ID, nil)
		return err
	})
}

func (c *Console) touchpointPause(paused bool) func(http.ResponseWriter, *http.Request, *viewer) {
	key, flash := "tp.confirm_resume", "tp_resumed"
	if paused {
		key, flash = "tp.confirm_pause", "tp_paused"
	}
	return func(w http.ResponseWriter, r *http.Request, v *viewer) {
		c.tpAction(w, r, v, key, flash, func(tp store.Touchpoint, sc sessionCtx) error {
			_, err := c.commands().SetPaused(r.Context(), v.actor(), tp.ID, paused)
			return err
		})
	}
}

func (c *Console) touchpointDelete(w http.ResponseWriter, r *http.Request, v *viewer) {
	c.tpAction(w, r, v, "tp.confirm_delete", "tp_deleted", func(tp store.Touchpoint, sc sessionCtx) error {
		return c.commands().DeleteTouchpoint(r.Context(), v.actor(), tp.ID)
	})
}
