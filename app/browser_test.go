package app_test

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/internal/browsertest"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
	"github.com/learnloop/learnloop/surveys"
)

// pick clicks the option label of a scale question, as a finger would.
func pick(key, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(`label:has(> input[name="q_` + key + `"][value="` + value + `"])`))
}

func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	require.NoError(t, err)
	return v
}

// TestSurveyFormInBrowser drives the feedback form in headless Chromium:
// a submit with a missing required answer shows inline errors and stores
// nothing; progress survives closing the page; a complete submit shows the
// thank-you page; the answers can be reopened and edited.
func TestSurveyFormInBrowser(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverSQLite)
	b := setup(t, db)
	sid, _ := surveyFixture(t, b)
	b.clk.Set(time.Date(2026, 3, 2, 2, 5, 0, 0, time.UTC))
	require.Equal(t, http.StatusCreated, b.call(t, "POST", "/api/v1/sessions/"+u(sid)+"/checkins", "", map[string]any{"external_id": "E002"}, nil))
	b.clk.Set(time.Date(2026, 3, 2, 4, 0, 1, 0, time.UTC))
	b.runDue(t)
	form := formURL(t, b, cardWith(t, b, "E002", surveys.KindFeedback))

	ctx := browsertest.New(t)
	survey := chromedp.CSS("#survey")
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(form), chromedp.WaitVisible(survey)))
	require.Contains(t, run(t, ctx, chromedp.Title()), "反馈")
	// Progress is kept in the browser if the page is closed.
	require.NoError(t, chromedp.Do(ctx, pick("course_satisfaction", "4"), chromedp.Navigate(form), chromedp.WaitVisible(survey)))
	require.True(t, run(t, ctx, chromedp.Evaluate[bool](`document.querySelector('input[name="q_course_satisfaction"][value="4"]').checked`)),
		"the answer survived reopening the page")
	shot(t, ctx, "survey-form.png")

	// Submit with the required teacher/organisation/NPS answers missing.
	submit := chromedp.Click(chromedp.CSS(`button[value="submit"]`))
	require.NoError(t, chromedp.Do(ctx, pick("teacher_satisfaction", "5"), submit, chromedp.WaitVisible(chromedp.CSS("#errors"))))
	require.Contains(t, run(t, ctx, chromedp.Text(chromedp.CSS("#errors"))), "2 处")
	require.EqualValues(t, 0, count(t, db, &store.SurveyResponse{}), "an invalid submit stores nothing")
	require.Equal(t, 2, run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('fieldset[aria-invalid="true"]').length`)))
	shot(t, ctx, "survey-form-errors.png")

	// Complete it.
	require.NoError(t, chromedp.Do(ctx,
		pick("organisation_satisfaction", "3"),
		pick("nps", "8"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="q_suggestions"]`), "案例再多一点"),
		submit,
		chromedp.WaitVisible(chromedp.CSS("#thanks")),
	))
	require.Contains(t, run(t, ctx, chromedp.Text(chromedp.CSS("#thanks"))), "感谢您的反馈")
	var resp store.SurveyResponse
	require.NoError(t, db.First(&resp).Error)
	require.Equal(t, store.ResponseComplete, resp.Status)

	// Reopen and edit: the form shows the stored answers.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#edit")), chromedp.WaitVisible(survey)))
	require.True(t, run(t, ctx, chromedp.Evaluate[bool](`document.querySelector('input[name="q_nps"][value="8"]').checked`)))
	require.NoError(t, chromedp.Do(ctx, pick("nps", "10"), submit, chromedp.WaitVisible(chromedp.CSS("#thanks"))))
	var a store.SurveyAnswer
	require.NoError(t, db.Where("question_key = ?", "nps").First(&a).Error)
	require.EqualValues(t, 10, *a.Number)
	require.EqualValues(t, 1, count(t, db, &store.SurveyResponse{}), "editing keeps one response")
}

// shot saves a PNG screenshot under docs/screenshots when
// LEARNLOOP_SCREENSHOTS=1 (the README shows them).
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if os.Getenv("LEARNLOOP_SCREENSHOTS") != "1" {
		return
	}
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.MkdirAll("../docs/screenshots", 0o755); err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile("../docs/screenshots/"+name, buf, 0o644); err != nil {
		t.Logf("screenshot %s: %v", name, err)
	}
}
