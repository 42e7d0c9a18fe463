package surveys_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/simulator"
	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/internal/apptest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
	"github.com/learnloop/learnloop/surveys"
)

const anonSecret = "anonymity-link-secret-0123456789"

// anonWorld is a running app with an anonymous feedback survey delivered to
// seven checked-in people: S1–S5 in 销售, L1–L2 in 法务 (a department of two).
type anonWorld struct {
	a      *app.App
	srv    *httptest.Server
	clk    *apptest.Clock
	db     *storetest.DB
	survey uint64
	people map[string]store.Employee
}

func newAnonWorld(t *testing.T, db *storetest.DB) *anonWorld {
	t.Helper()
	w := &anonWorld{db: db, clk: apptest.NewClock(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))}
	w.a, w.srv = apptest.Start(t, db.DB, w.clk, anonSecret, apptest.NoFeedback)

	_, w.survey = feedbackClass(t, w.srv.URL, w.clk, "ANON-2", "合规",
		"external_id,name,department,platform\nS1,甲,销售,simulator\nS2,乙,销售,simulator\nS3,丙,销售,simulator\nS4,丁,销售,simulator\nS5,戊,销售,simulator\nL1,己,法务,simulator\nL2,庚,法务,simulator\n",
		[]string{"S1", "S2", "S3", "S4", "S5", "L1", "L2"}, true)
	w.clk.Set(time.Date(2026, 3, 2, 4, 0, 1, 0, time.UTC))
	apptest.RunDue(t, w.a)
	w.people = db.Employees(t)
	return w
}

func (w *anonWorld) call(t *testing.T, method, path, ctype string, body, out any) int {
	t.Helper()
	return apptest.Call(t, w.srv.URL, method, path, ctype, body, out)
}

func (w *anonWorld) card(t *testing.T, user string) simulator.Card {
	t.Helper()
	for _, c := range w.a.Sim().Inbox(user) {
		if c.Message.Kind == surveys.KindFeedback {
			return c
		}
	}
	t.Fatalf("%s has no feedback card", user)
	return simulator.Card{}
}

// trackedForm returns the card's tracked /l/ link to the form.
func trackedForm(t *testing.T, c simulator.Card) string {
	t.Helper()
	for _, b := range c.Message.Buttons {
		if b.Action == bot.ActionLink && strings.Contains(b.URL, "/l/") {
			return b.URL
		}
	}
	t.Fatalf("card %s has no form link", c.Key)
	return ""
}

// open follows a tracked link the way a phone does (the click is recorded)
// and returns the form URL it lands on.
func open(t *testing.T, link string) string {
	t.Helper()
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Get(link)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	return resp.Header.Get("Location")
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func post(t *testing.T, form string, vals url.Values) int {
	t.Helper()
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.PostForm(form, vals)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func answers(teacher int, comment string) url.Values {
	return url.Values{"q_teacher_satisfaction": {strconv.Itoa(teacher)}, "q_course_satisfaction": {"4"}, "q_organisation_satisfaction": {"4"},
		"q_nps": {"8"}, "q_suggestions": {comment}, "action": {"submit"}}
}

// TestAnonymousAnswersCannotBeLinked answers an anonymous survey the ways
// people do (card tap then form, form only, saved progress, an edit later, a
// two-person department), then plays an attacker who holds the whole
// database and the configuration (the link secret) and tries every way we
// know to tie an answer to a person. Each comment names its writer, so any
// successful link is visible.
func TestAnonymousAnswersCannotBeLinked(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *storetest.DB) {
		w := newAnonWorld(t, db)
		at := func(h, m int) { w.clk.Set(time.Date(2026, 3, 2, h, m, 7, 0, time.UTC)) }

		// S1 taps 10 in the card, then completes the form from the updated card.
		at(4, 3)
		first := w.card(t, "S1")
		tr := apptest.Tap(t, w.srv.URL, "S1", apptest.Button(t, bot.ActionNPS, "10", first))
		require.True(t, tr.OK)
		at(4, 5)
		s1form := open(t, trackedForm(t, w.card(t, "S1")))
		code, body := get(t, s1form)
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, body, `value="10" checked`, "the updated card's link opens the answer given in the card")
		v := answers(5, "S1-writes-this")
		v.Set("q_nps", "10")
		require.Equal(t, http.StatusSeeOther, post(t, s1form, v))
		// A tap on the card as first shown (another device) cannot reach the
		// answer without its key: refused, nothing changes.
		tr = apptest.Tap(t, w.srv.URL, "S1", apptest.Button(t, bot.ActionNPS, "0", first))
		require.False(t, tr.OK)

		// S2, S4 and L1 answer in the form; S3 saves progress only.
		forms := map[string]string{}
		for i, who := range []string{"S2", "S3", "S4", "L1"} {
			at(5, 10*i)
			forms[who] = open(t, trackedForm(t, w.card(t, who)))
			v := answers(3+i%3, who+"-writes-this")
			if who == "S3" {
				v = url.Values{"q_teacher_satisfaction": {"2"}, "q_suggestions": {"S3-writes-this"}, "action": {"save"}}
			}
			require.Equal(t, http.StatusSeeOther, post(t, forms[who], v), who)
		}
		// S4 comes back the next day with the same link and edits.
		w.clk.Set(time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC))
		code, body = get(t, forms["S4"])
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, body, "S4-writes-this")
		require.Equal(t, http.StatusSeeOther, post(t, forms["S4"], answers(1, "S4-writes-this, edited")))
		// L2 answers too, so the 法务 people are two.
		require.Equal(t, http.StatusSeeOther, post(t, open(t, trackedForm(t, w.card(t, "L2"))), answers(2, "L2-writes-this")))

		var resps []store.SurveyResponse
		require.NoError(t, db.Where("survey_id = ?", w.survey).Find(&resps).Error)
		require.Len(t, resps, 6, "one response per person: S1 (card + form), S2, S3, S4 (edited), L1, L2")
		var texts []store.SurveyAnswer
		require.NoError(t, db.Where("survey_id = ? AND question_key = ?", w.survey, "suggestions").Find(&texts).Error)
		writer := map[uint64]string{} // response → who wrote it (known to the test only)
		for _, a := range texts {
			writer[a.ResponseID] = strings.SplitN(a.Text, "-", 2)[0]
		}
		require.Len(t, writer, 6)
		require.Equal(t, "S4-writes-this, edited", textOf(texts, "S4"), "the edit replaced the answer")

		// The attacker. guess maps a response to a person; every approach
		// must leave each response with no single candidate.
		type approach struct {
			name  string
			guess func(r store.SurveyResponse) []uint64 // candidate employee ids
		}
		var parts []store.SurveyParticipation
		require.NoError(t, db.Where("survey_id = ?", w.survey).Find(&parts).Error)
		require.Len(t, parts, 6, "who answered is known (reminders need it), apart from the answers")
		participants := map[uint64]store.Employee{}
		for _, p := range parts {
			for _, e := range w.people {
				if e.ID == p.EmployeeID {
					participants[e.ID] = e
				}
			}
			require.Equal(t, store.ParticipationAnswered, p.Status, "no partial/complete split to pair with the responses'")
		}
		var clicks []store.Click
		require.NoError(t, db.Find(&clicks).Error)
		require.NotEmpty(t, clicks)
		var deliveries []store.Delivery
		require.NoError(t, db.Find(&deliveries).Error)
		byDelivery := map[uint64]uint64{}
		for _, d := range deliveries {
			byDelivery[d.ID] = d.EmployeeID
		}
		var answerRows []store.SurveyAnswer
		require.NoError(t, db.Where("survey_id = ?", w.survey).Find(&answerRows).Error)
		signer, err := bot.NewSigner([]byte(anonSecret), nil)
		require.NoError(t, err)

		approaches := []approach{
			{"respondent key = a keyed hash of the employee id under the config's secret (or the id itself)", func(r store.SurveyResponse) []uint64 {
				var out []uint64
				for _, e := range participants {
					for _, k := range []string{oldKey(w.survey, e.ID), "e:" + strconv.FormatUint(e.ID, 10), "k:" + sha(strconv.FormatUint(e.ID, 10)), "k:" + sha(e.ExternalID)} {
						if r.RespondentKey == k {
							out = append(out, e.ID)
						}
					}
				}
				return out
			}},
			{"respondent or delivery column", func(r store.SurveyResponse) []uint64 {
				var out []uint64
				if r.RespondentID != nil {
					out = append(out, *r.RespondentID)
				}
				if r.DeliveryID != nil {
					out = append(out, byDelivery[*r.DeliveryID])
				}
				return out
			}},
			{"the click just before the response started (person or delivery on the click)", func(r store.SurveyResponse) []uint64 {
				var best *store.Click
				for i, c := range clicks {
					if !c.ClickedAt.After(r.StartedAt) && (best == nil || c.ClickedAt.After(best.ClickedAt)) {
						best = &clicks[i]
					}
				}
				if best == nil {
					return nil
				}
				var out []uint64
				if best.EmployeeID != 0 {
					out = append(out, best.EmployeeID)
				}
				if best.DeliveryID != 0 {
					out = append(out, byDelivery[best.DeliveryID])
				}
				if i := strings.Index(best.Target, "/s/"); i >= 0 && len(best.Target) > i+3 {
					if c, err := signer.Verify(best.Target[i+3:], bot.TokenSurvey); err == nil {
						out = append(out, byDelivery[c.DeliveryID])
					}
				}
				return out
			}},
			{"insertion order: k-th participant (by key or rowid) = k-th response (by id), answers by id", func(r store.SurveyResponse) []uint64 {
				return orderMatch(t, db, w.survey, r, resps, answerRows, writer, w.people)
			}},
			{"department snapshot: the participants of the response's department (or of the unnamed ones)", func(r store.SurveyResponse) []uint64 {
				named := map[string]bool{}
				for _, x := range resps {
					named[x.Department] = x.Department != ""
				}
				var out []uint64
				for _, e := range participants {
					if r.Department == e.Department || (r.Department == "" && !named[e.Department]) {
						out = append(out, e.ID)
					}
				}
				if len(out) == 1 {
					return out
				}
				return nil // a group of two or more is not a link
			}},
			{"forge each participant's form link with the config's secret and read what it shows", func(r store.SurveyResponse) []uint64 {
				var out []uint64
				for _, d := range deliveries {
					e, ok := participants[d.EmployeeID]
					if !ok || d.TouchpointID == 0 {
						continue
					}
					forged := w.srv.URL + "/s/" + signer.Sign(bot.Claims{Kind: bot.TokenSurvey, DeliveryID: d.ID, Expires: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)})
					_, page := get(t, forged)
					if strings.Contains(page, writer[r.ID]+"-writes-this") {
						out = append(out, e.ID)
					}
				}
				return out
			}},
		}
		for _, r := range resps {
			for _, ap := range approaches {
				got := ap.guess(r)
				require.Empty(t, got, "%s links %s's response to employee(s) %v", ap.name, writer[r.ID], got)
			}
		}

		// Times are cut to the day, on responses and answers alike.
		for _, r := range resps {
			for _, tm := range []time.Time{r.StartedAt, r.UpdatedAt} {
				require.Equal(t, store.AnonymousDay(tm), tm.UTC())
			}
			if r.SubmittedAt != nil {
				require.Equal(t, store.AnonymousDay(*r.SubmittedAt), r.SubmittedAt.UTC())
			}
			require.Greater(t, r.ID, uint64(1)<<40, "random, not sequential")
		}
		for _, a := range answerRows {
			require.Equal(t, store.AnonymousDay(a.UpdatedAt), a.UpdatedAt.UTC())
			require.Greater(t, a.ID, uint64(1)<<40)
		}
		// The two-person department is not named on any response.
		for _, r := range resps {
			require.NotEqual(t, "法务", r.Department)
		}
		// Clicks on the anonymous links carry no person and no token.
		for _, c := range clicks {
			require.Zero(t, c.EmployeeID)
			require.Zero(t, c.DeliveryID)
			require.NotContains(t, c.Target, "/s/"+"A", "no token in the stored target")
			require.True(t, strings.HasSuffix(c.Target, "/s/"), c.Target)
		}

		// Reminders still reach exactly those who have not answered.
		var missing struct {
			Missing []surveys.MissingRow `json:"missing"`
		}
		require.Equal(t, http.StatusOK, w.call(t, "GET", fmt.Sprintf("/api/v1/surveys/%d/missing", w.survey), "", nil, &missing))
		var names []string
		for _, m := range missing.Missing {
			names = append(names, m.ExternalID)
		}
		require.Equal(t, []string{"S5"}, names)
	})
}

func textOf(as []store.SurveyAnswer, who string) string {
	for _, a := range as {
		if strings.HasPrefix(a.Text, who+"-") {
			return a.Text
		}
	}
	return ""
}

// oldKey is the respondent key anonymous responses had before migration 6.
func oldKey(surveyID, employeeID uint64) string {
	m := hmac.New(sha256.New, []byte(anonSecret))
	fmt.Fprintf(m, "learnloop-respondent\x00%d\x00%d", surveyID, employeeID)
	return "h:" + hex.EncodeToString(m.Sum(nil)[:24])
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// orderMatch is the insertion-order attack. People answered in the order
// S1, S2, S3, S4, L1, L2 (also their employee-id order). The attacker sorts
// the responses by id, and by their first answer's id, and pairs them with
// that order; it is a link when both orders are the answering order (with
// random ids that happens with probability about 1/720²). It also checks that
// the participation table keeps no insertion order of its own.
func orderMatch(t *testing.T, db *storetest.DB, surveyID uint64, r store.SurveyResponse, resps []store.SurveyResponse, answers []store.SurveyAnswer, writer map[uint64]string, people map[string]store.Employee) []uint64 {
	t.Helper()
	if db.Driver == store.DriverSQLite {
		var sqlText string
		require.NoError(t, db.Raw("SELECT sql FROM sqlite_master WHERE name = 'survey_participations'").Scan(&sqlText).Error)
		require.Contains(t, strings.ToUpper(sqlText), "WITHOUT ROWID", "no hidden insertion-order rowid")
	}
	var cols []string
	require.NoError(t, db.Raw("SELECT * FROM survey_participations LIMIT 0").Scan(&[]map[string]any{}).Error)
	rows, err := db.Raw("SELECT * FROM survey_participations LIMIT 0").Rows()
	require.NoError(t, err)
	cols, err = rows.Columns()
	require.NoError(t, err)
	rows.Close()
	require.ElementsMatch(t, []string{"survey_id", "employee_id", "subject_id", "status"}, cols, "no id, no time, no response in the participation table")

	want := []string{"S1", "S2", "S3", "S4", "L1", "L2"}
	firstAnswer := map[uint64]uint64{}
	for _, a := range answers {
		if cur, ok := firstAnswer[a.ResponseID]; !ok || a.ID < cur {
			firstAnswer[a.ResponseID] = a.ID
		}
	}
	byID := append([]store.SurveyResponse(nil), resps...)
	byAnswer := append([]store.SurveyResponse(nil), resps...)
	sort.Slice(byID, func(i, j int) bool { return byID[i].ID < byID[j].ID })
	sort.Slice(byAnswer, func(i, j int) bool { return firstAnswer[byAnswer[i].ID] < firstAnswer[byAnswer[j].ID] })
	names := func(rs []store.SurveyResponse) []string {
		out := make([]string, len(rs))
		for i, x := range rs {
			out[i] = writer[x.ID]
		}
		return out
	}
	if slices.Equal(names(byID), want) && slices.Equal(names(byAnswer), want) {
		return []uint64{people[writer[r.ID]].ID}
	}
	return nil
}
