package console

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// person is one roster entry on the live board.
// person is one roster member on the board with their check-in.
type person = command.BoardPerson

type boardData struct {
	Sess      store.Session
	Loc       *time.Location
	Counts    counts
	Rate      rateFigure
	CheckedIn []person
	Missing   []person
	Excused   []person
	// Remote lists the card and link check-ins of a session that requires
	// on-site check-in (Onsite): answered, but not present.
	Remote   []person
	Onsite   bool
	BySource []sourceCount
	Windows  bot.Windows
	Phase    string
	// Closed is set once every check-in window has closed: the board then
	// offers only what still works (excusing, and a manual check-in of a
	// chosen kind); no reminder, no tap-style check-in.
	Closed  bool
	Write   bool
	Version string
	Table   *Table
	Now     time.Time
}

// sourceCount is how many check-ins came through one source.
type sourceCount struct {
	Source string
	N      int
}

// sourceOrder lists check-in sources in the order the board shows them.
var sourceOrder = []string{store.SourceCard, store.SourceChat, store.SourceLink, store.SourceQR, store.SourceRoomCode, store.SourceManual, store.SourceRemote}

// board builds the live board of a session.
func (c *Console) board(ctx context.Context, lang text.Locale, sc sessionCtx) (*boardData, error) {
	people, err := c.commands().BoardPeople(ctx, sc.Sess.ID)
	if err != nil {
		return nil, err
	}
	now := c.now()
	d := &boardData{Sess: sc.Sess, Loc: sc.Loc, Windows: bot.SessionWindows(sc.Sess), Now: now,
		Write: sc.Access == accessWrite && sc.Sess.Status != store.SessionCancelled}
	switch {
	case sc.Sess.Status == store.SessionCancelled:
		d.Phase = "cancelled"
	case now.Before(d.Windows.Opens):
		d.Phase = "before"
	case !now.After(d.Windows.OnTimeUntil):
		d.Phase = "on_time"
	case !now.After(d.Windows.LateUntil):
		d.Phase = "late"
	case !now.After(d.Windows.MakeupUntil):
		d.Phase = "makeup"
	default:
		d.Phase = "closed"
		d.Closed = true
	}
	if c.d.Presence != nil {
		if d.Onsite, err = c.d.Presence.OnsiteRequired(ctx, sc.Sess.ID); err != nil {
			return nil, err
		}
	}
	bySource := map[string]int{}
	h := sha256.New()
	for _, p := range people {
		if p.CheckedInAt != nil && p.Enrollment != store.EnrollExcused {
			bySource[p.Source]++
		}
		// The counts and the state come from reports (the one attendance
		// rule, on-site proof of presence included).
		switch d.Counts.Add(reports.Attendance{Enrollment: p.Enrollment, CheckedIn: p.CheckedInAt != nil, Kind: p.Kind, Source: p.Source}, d.Onsite) {
		case reports.StateExcused:
			d.Excused = append(d.Excused, p)
		case reports.StateRemote:
			d.Remote = append(d.Remote, p)
		case reports.StatePresent:
			d.CheckedIn = append(d.CheckedIn, p)
		default:
			d.Missing = append(d.Missing, p)
		}
	}
	d.Rate = d.Counts.Rate()
	for _, src := range sourceOrder {
		if n := bySource[src]; n > 0 {
			d.BySource = append(d.BySource, sourceCount{src, n})
			delete(bySource, src)
		}
	}
	rest := make([]string, 0, len(bySource)) // sources this board does not know yet
	for src := range bySource {
		rest = append(rest, src)
	}
	sort.Strings(rest)
	for _, src := range rest {
		d.BySource = append(d.BySource, sourceCount{src, bySource[src]})
	}
	sort.Slice(d.CheckedIn, func(i, j int) bool {
		a, b := d.CheckedIn[i], d.CheckedIn[j]
		if !a.CheckedInAt.Equal(*b.CheckedInAt) {
			return a.CheckedInAt.After(*b.CheckedInAt)
		}
		return a.ExternalID < b.ExternalID
	})
	byID := func(ps []person) {
		sort.Slice(ps, func(i, j int) bool { return ps[i].ExternalID < ps[j].ExternalID })
	}
	byID(d.Missing)
	byID(d.Excused)
	byID(d.Remote)
	for _, group := range [][]person{d.CheckedIn, d.Missing, d.Excused, d.Remote} {
		for _, p := range group {
			at := ""
			if p.CheckedInAt != nil {
				at = p.CheckedInAt.Format(time.RFC3339Nano)
			}
			fmt.Fprintf(h, "%d|%s|%s|%s|%s\n", p.EmployeeID, p.Enrollment, p.Kind, at, p.Note)
		}
	}
	fmt.Fprintf(h, "%s|%s|%v", d.Phase, sc.Sess.Status, d.Write)
	d.Version = hex.EncodeToString(h.Sum(nil))[:16]

	t := &Table{Key: "board", Title: text.T(lang, "table.board"), Empty: text.T(lang, "roster.empty"),
		Columns: []string{text.T(lang, "col.external_id"), text.T(lang, "col.name"), text.T(lang, "col.department"), text.T(lang, "col.state"),
			text.T(lang, "col.checkin_kind"), text.T(lang, "col.checked_in_at"), text.T(lang, "col.source"), text.T(lang, "col.note")}}
	add := func(ps []person, state string) {
		for _, p := range ps {
			t.Rows = append(t.Rows, []Cell{C(p.ExternalID), C(p.Name), C(p.Department), {V: state, Label: text.T(lang, "board."+state)},
				{V: p.Kind, Label: text.Enum(lang, "checkin", p.Kind)}, C(p.CheckedInAt), {V: p.Source, Label: text.Enum(lang, "source", p.Source)}, C(p.Note)})
		}
	}
	add(d.CheckedIn, "checked_in")
	add(d.Missing, "missing")
	add(d.Excused, "excused")
	d.Table = t
	return d, nil
}

func (c *Console) boardPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, p, ok := c.sessionTab(w, r, v, accessWrite, "board.title", "board")
	if !ok {
		return
	}
	d, err := c.board(r.Context(), p.Lang, sc)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	if c.exportTable(w, r, v, sc.Loc, fmt.Sprintf("session-%d", sc.Sess.ID), d.Table) {
		return
	}
	p.Data = d
	c.render(w, r, http.StatusOK, "board", p)
}

// boardFragment renders the live part of the board.
func (c *Console) boardFragment(ctx context.Context, r *http.Request, v *viewer, sc sessionCtx) ([]byte, string, error) {
	p := c.newPage(r, v, "board.title")
	p.Session = c.head(sc, "board")
	d, err := c.board(ctx, p.Lang, sc)
	if err != nil {
		return nil, "", err
	}
	p.Data = d
	b, err := c.renderFragment(p.Lang, "board", "board-live", p)
	if err != nil {
		return nil, "", fmt.Errorf("render board: %w", err)
	}
	return b, d.Version, nil
}

// boardLive answers the polling fallback: the fragment, or 204 when the
// version the browser has (?v=) is current.
func (c *Console) boardLive(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, ok := c.loadSessionPath(w, r, v, accessWrite)
	if !ok {
		return
	}
	b, version, err := c.boardFragment(r.Context(), r, v, sc)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Board-Version", version)
	if r.URL.Query().Get("v") == version {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(b)
}

// boardEvents streams the board as server-sent events: a "board" event with
// the fragment whenever it changed, a comment every 15 s to keep proxies
// from closing the stream. It reads only the database, so check-ins taken
// by any replica appear. The stream ends after 10 minutes; browsers
// reconnect by themselves.
func (c *Console) boardEvents(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, ok := c.loadSessionPath(w, r, v, accessWrite)
	if !ok {
		return
	}
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Minute)
	defer cancel()
	last := r.URL.Query().Get("v")
	if _, err := fmt.Fprint(w, "retry: 3000\n\n"); err != nil {
		return
	}
	_ = rc.Flush()
	tick := time.NewTicker(c.d.LivePoll)
	defer tick.Stop()
	lastWrite := time.Now()
	lastAuth := time.Now()
	lastFP := ""
	for {
		// Signing out or a disabled account ends the stream too.
		if time.Since(lastAuth) > 15*time.Second {
			if !c.stillSignedIn(ctx, v) {
				return
			}
			lastAuth = time.Now()
		}
		// A cheap fingerprint first; the board is read and rendered only
		// when it moved.
		fp, err := c.boardFingerprint(ctx, sc)
		if err != nil {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				c.log().Error("console: board events", "session", sc.Sess.ID, "err", err)
			}
			return
		}
		var (
			b       []byte
			version = last
		)
		if fp != lastFP {
			lastFP = fp
			if b, version, err = c.boardFragment(ctx, r, v, sc); err != nil {
				if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
					c.log().Error("console: board events", "session", sc.Sess.ID, "err", err)
				}
				return
			}
		}
		if version != last {
			last = version
			var buf bytes.Buffer
			fmt.Fprintf(&buf, "event: board\nid: %s\n", version)
			for _, line := range strings.Split(string(b), "\n") {
				buf.WriteString("data: ")
				buf.WriteString(strings.TrimRight(line, "\r"))
				buf.WriteByte('\n')
			}
			buf.WriteByte('\n')
			if _, err := w.Write(buf.Bytes()); err != nil {
				return
			}
			_ = rc.Flush()
			lastWrite = time.Now()
		} else if time.Since(lastWrite) > 15*time.Second {
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			_ = rc.Flush()
			lastWrite = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// stillSignedIn reports whether v's login session is still valid.
func (c *Console) stillSignedIn(ctx context.Context, v *viewer) bool {
	return c.d.Accounts.StillSignedIn(ctx, v.Session.ID)
}

// boardFingerprint changes whenever the board would: a check-in, an
// enrollment added, excused or cancelled, the check-in phase, the session
// status.
func (c *Console) boardFingerprint(ctx context.Context, sc sessionCtx) (string, error) {
	st, err := c.commands().BoardState(ctx, sc.Sess.ID)
	if err != nil {
		return "", err
	}
	w := bot.SessionWindows(sc.Sess)
	now := c.now()
	phase := 0
	for _, t := range []time.Time{w.Opens, w.OnTimeUntil, w.LateUntil, w.MakeupUntil} {
		if now.After(t) {
			phase++
		}
	}
	return fmt.Sprintf("%d/%d/%d/%d/%d/%d/%s", st.Checkins, st.MaxCheckinID, st.Enrolled, st.ExcusedIDSum, st.CancelledIDSum, phase, st.Status), nil
}

// ---- board actions ----

// rosterPerson is the person the form's external_id names on the session's
// roster (command.Service.OnRoster).
func (c *Console) rosterPerson(r *http.Request, sessionID uint64) (command.RosterEntry, error) {
	return c.commands().OnRoster(r.Context(), sessionID, command.Person{ExternalID: r.PostForm.Get("external_id")})
}

// boardAction loads the session, renders the board again with an inline
// message when the input is bad (nothing changed), or asks for confirmation.
func (c *Console) boardError(w http.ResponseWriter, r *http.Request, v *viewer, sc sessionCtx, field, key string, args ...any) {
	p := c.tabPage(r, v, sc, "board.title", "board")
	p.fieldErrorf(field, key, args...)
	d, err := c.board(r.Context(), p.Lang, sc)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	p.Data = d
	c.render(w, r, http.StatusUnprocessableEntity, "board", p)
}

func (c *Console) boardSession(w http.ResponseWriter, r *http.Request, v *viewer) (sessionCtx, bool) {
	sc, ok := c.loadSessionPath(w, r, v, accessWrite)
	if !ok {
		return sc, false
	}
	if sc.Sess.Status == store.SessionCancelled {
		c.boardError(w, r, v, sc, "", "session.err_cancelled")
		return sc, false
	}
	return sc, true
}

// personError shows a board command's refusal on the board; anything
// else is an internal error.
func (c *Console) personError(w http.ResponseWriter, r *http.Request, v *viewer, sc sessionCtx, err error) {
	ext := strings.TrimSpace(r.PostForm.Get("external_id"))
	var ie *command.InvalidError
	switch {
	case errors.As(err, &ie):
		for _, f := range ie.Fields {
			switch f.Field {
			case "external_id":
				c.boardError(w, r, v, sc, "external_id", "board.err_no_person", ext)
			case "kind":
				c.boardError(w, r, v, sc, "kind", "board.err_kind")
			default:
				c.boardError(w, r, v, sc, "note", "board.err_note")
			}
			return
		}
	case errors.Is(err, command.ErrNotFound):
		c.boardError(w, r, v, sc, "external_id", "board.err_no_person", ext)
	case errors.Is(err, command.ErrNotEnrolled):
		c.boardError(w, r, v, sc, "external_id", "board.err_not_on_roster", ext)
	case errors.Is(err, command.ErrCancelled):
		c.boardError(w, r, v, sc, "", "session.err_cancelled")
	case errors.Is(err, command.ErrClosed):
		c.boardError(w, r, v, sc, "", "board.closed_note")
	case errors.Is(err, command.ErrNoneMissing):
		c.boardError(w, r, v, sc, "", "board.err_none_missing")
	case errors.Is(err, command.ErrForbidden):
		c.forbidden(w, r, v)
	default:
		c.internal(w, r, v, err)
	}
}

// remindMissing creates an ad-hoc make-up reminder to everyone not checked
// in and sends it now (command.RemindMissing).
func (c *Console) remindMissing(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, ok := c.boardSession(w, r, v)
	if !ok {
		return
	}
	lang := langOf(r)
	back := fmt.Sprintf("/sessions/%d/board", sc.Sess.ID)
	if c.now().After(bot.SessionWindows(sc.Sess).MakeupUntil) {
		// Nobody can check in any more: a reminder would ask the impossible.
		c.boardError(w, r, v, sc, "", "board.closed_note")
		return
	}
	missing, err := c.commands().NotCheckedIn(r.Context(), sc.Sess.ID)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	if len(missing) == 0 {
		c.boardError(w, r, v, sc, "", "board.err_none_missing")
		return
	}
	if !c.confirmed(w, r, v, back, text.T(lang, "board.confirm_remind", len(missing))) {
		return
	}
	if _, _, err := c.commands().RemindMissing(r.Context(), v.actor(), sc.Sess.ID); err != nil {
		c.personError(w, r, v, sc, err)
		return
	}
	c.redirectOK(w, r, back, "reminded")
}

func (c *Console) excuse(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, ok := c.boardSession(w, r, v)
	if !ok {
		return
	}
	note := r.PostForm.Get("note")
	c.onPerson(w, r, v, sc, "board.confirm_excuse",
		func(e store.Enrollment) bool { return e.Status == store.EnrollExcused },
		func(ctx context.Context, p command.Person) (string, error) {
			_, err := c.commands().Excuse(ctx, v.actor(), sc.Sess.ID, p, note)
			return "excused", err
		}, func() bool {
			if plan.TooLong(strings.TrimSpace(note), plan.MaxNote) {
				c.boardError(w, r, v, sc, "note", "board.err_note")
				return false
			}
			return true
		})
}

func (c *Console) unexcuse(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, ok := c.boardSession(w, r, v)
	if !ok {
		return
	}
	c.onPerson(w, r, v, sc, "board.confirm_unexcuse",
		func(e store.Enrollment) bool { return e.Status != store.EnrollExcused },
		func(ctx context.Context, p command.Person) (string, error) {
			_, err := c.commands().Unexcuse(ctx, v.actor(), sc.Sess.ID, p)
			return "unexcused", err
		}, nil)
}

// onPerson runs a board action on the roster person the form names: a
// refusal is shown on the board; check (if any) may answer first; when
// done says the person is already where the action would put them, it goes
// back to the board; else it asks for confirmation (confirmKey with the
// name and 工号), runs do and shows its flash.
func (c *Console) onPerson(w http.ResponseWriter, r *http.Request, v *viewer, sc sessionCtx, confirmKey string,
	done func(store.Enrollment) bool, do func(context.Context, command.Person) (string, error), check func() bool) {
	re, err := c.rosterPerson(r, sc.Sess.ID)
	if err != nil {
		c.personError(w, r, v, sc, err)
		return
	}
	if check != nil && !check() {
		return
	}
	back := fmt.Sprintf("/sessions/%d/board", sc.Sess.ID)
	if done != nil && done(re.Enrollment) {
		c.redirectOK(w, r, back, "")
		return
	}
	if !c.confirmed(w, r, v, back, text.T(langOf(r), confirmKey, re.Employee.Name, re.Employee.ExternalID)) {
		return
	}
	flash, err := do(r.Context(), command.Person{EmployeeID: re.Employee.ID})
	if err != nil {
		c.personError(w, r, v, sc, err)
		return
	}
	c.redirectOK(w, r, back, flash)
}

// manualCheckin records a check-in for someone (a dead phone, a paper
// list) through command.ManualCheckin, as the REST API does.
func (c *Console) manualCheckin(w http.ResponseWriter, r *http.Request, v *viewer) {
	sc, ok := c.boardSession(w, r, v)
	if !ok {
		return
	}
	kind := r.PostForm.Get("kind")
	switch kind {
	case "", store.CheckinOnTime, store.CheckinLate, store.CheckinMakeup:
	default:
		c.boardError(w, r, v, sc, "kind", "board.err_kind")
		return
	}
	note := r.PostForm.Get("note")
	if plan.TooLong(strings.TrimSpace(note), plan.MaxNote) {
		c.boardError(w, r, v, sc, "note", "board.err_note")
		return
	}
	c.onPerson(w, r, v, sc, "board.confirm_checkin", nil, func(ctx context.Context, p command.Person) (string, error) {
		res, err := c.commands().ManualCheckin(ctx, v.actor(), sc.Sess.ID, command.CheckinInput{Person: p, Kind: kind, Note: note})
		if res.Duplicate {
			return "already_checked_in", err
		}
		return "checked_in", err
	}, nil)
}
