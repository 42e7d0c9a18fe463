package web

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/text"
)

// Page sizes of every list endpoint (?limit=&cursor=).
const (
	defaultPageLimit = 100
	maxPageLimit     = 1000
)

// cursorPrefix marks the cursors this API gives, so a hand-made value is
// refused rather than read as something else.
const cursorPrefix = "o1:"

// page is one requested page of a list: at most limit rows after offset rows
// of the list's fixed order.
type page struct {
	limit  int
	offset int
	// link is the request's own path and query, to build the next link.
	link url.URL
}

// readPage parses ?limit= and ?cursor= or answers 400.
func readPage(w http.ResponseWriter, r *http.Request) (page, bool) {
	p := page{limit: defaultPageLimit}
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageLimit {
			apiError(w, http.StatusBadRequest, "bad_query", text.T(text.EN, "web:detail.bad_limit", maxPageLimit), nil)
			return p, false
		}
		p.limit = n
	}
	if v := q.Get("cursor"); v != "" {
		off, ok := decodeCursor(v)
		if !ok {
			apiError(w, http.StatusBadRequest, "bad_query", text.T(text.EN, "web:detail.bad_cursor"), nil)
			return p, false
		}
		p.offset = off
	}
	// The path the client used, /api/v1 included (the API is mounted with
	// StripPrefix, which leaves RequestURI alone).
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil && u.Path != "" {
		p.link = url.URL{Path: u.Path, RawQuery: u.RawQuery}
	} else {
		p.link = url.URL{Path: r.URL.Path, RawQuery: r.URL.RawQuery}
	}
	return p, true
}

func encodeCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.Itoa(offset)))
}

func decodeCursor(c string) (int, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	s, ok := strings.CutPrefix(string(raw), cursorPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || strconv.Itoa(n) != s {
		return 0, false
	}
	return n, true
}

// command is the page as the command package reads lists: it gives one
// row more, to learn whether another page follows.
func (p page) command() command.Page {
	return command.Page{Limit: p.limit, Offset: p.offset}
}

// pageSlice cuts the page (and one row more) out of a list built in memory.
func pageSlice[T any](p page, all []T) []T {
	if p.offset >= len(all) {
		return []T{}
	}
	end := min(len(all), p.offset+p.limit+1)
	return all[p.offset:end]
}

// writePage answers 200 with the fields, the page's rows under key (an empty
// list, not null, when there are none), next_cursor and the next link (both
// null on the last page). rows is what query or pageSlice gave: up to one
// row more than the page.
func writePage[T any](w http.ResponseWriter, p page, fields map[string]any, key string, rows []T) {
	body := make(map[string]any, len(fields)+3)
	for k, v := range fields {
		body[k] = v
	}
	if rows == nil {
		rows = []T{}
	}
	var next, link *string
	if len(rows) > p.limit {
		rows = rows[:p.limit]
		c := encodeCursor(p.offset + p.limit)
		u := p.link
		q := u.Query()
		q.Set("cursor", c)
		u.RawQuery = q.Encode()
		l := u.String()
		next, link = &c, &l
	}
	body[key] = rows
	body["next_cursor"] = next
	body["next"] = link
	writeJSON(w, http.StatusOK, body)
}
