package console_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/store/storetest"
)

// TestEveryPageInBothLanguages renders every page in zh-CN and en for an
// admin, with no formatting slips and no untranslated keys.
func TestEveryPageInBothLanguages(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.DriverSQLite)
	e := newEnv(t, db)
	c := e.signedIn(t, "admin", store.RoleAdmin, "")
	course, sess := planClass(t, c, "LANG-1")
	r := c.get(sess + "/timeline")
	tp := regexp.MustCompile(`data-tp="(\d+)"`).FindStringSubmatch(r.Body)[1]
	pages := []string{"/console/", "/console/courses", "/console/courses/new", "/console/sessions/new", "/console/accounts", "/console/accounts/1/edit",
		"/console/audit", "/console/password", course, course + "/edit", sess, sess + "/edit", sess + "/board", sess + "/timeline",
		sess + "/roster", sess + "/results", sess + "/health", "/console/touchpoints/" + tp + "/edit", "/console/teachers", "/console/nowhere"}
	key := regexp.MustCompile(`>(?:[a-z]+\.){1,2}[a-z_]+<`) // an untranslated "group.key"
	for _, lang := range []string{"zh-CN", "en"} {
		c.get("/console/lang?to=" + lang)
		for _, p := range pages {
			r := c.get(p)
			want := http.StatusOK
			if p == "/console/nowhere" {
				want = http.StatusNotFound
			}
			require.Equal(t, want, r.Code, "%s %s: %s", lang, p, r.Body)
			require.Contains(t, r.Body, `<html lang="`+lang+`">`, p)
			require.NotContains(t, r.Body, "%!", "%s %s: a formatting slip", lang, p)
			require.False(t, key.MatchString(r.Body), "%s %s: untranslated key %q", lang, p, key.FindString(r.Body))
			if lang == "en" {
				require.False(t, strings.Contains(between(r.Body, "<main>", "</main>"), "签到率"), "%s %s: Chinese left in English", lang, p)
			}
		}
	}
}
