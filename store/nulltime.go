package store

import (
	"fmt"
	"strings"
	"time"
)

// NullTime scans a nullable timestamp whichever way the driver returns it:
// time.Time (MySQL with parseTime, SQLite typed columns) or text (SQLite
// expressions and sub-selects lose the column type). Time is in UTC.
type NullTime struct {
	Time  time.Time
	Valid bool
}

var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
}

// Scan implements sql.Scanner.
func (n *NullTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		n.Time, n.Valid = time.Time{}, false
		return nil
	case time.Time:
		n.Time, n.Valid = x.UTC(), true
		return nil
	case []byte:
		return n.parse(string(x))
	case string:
		return n.parse(x)
	default:
		return fmt.Errorf("cannot scan %T as a time", v)
	}
}

func (n *NullTime) parse(s string) error {
	s = strings.TrimSpace(s)
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			n.Time, n.Valid = t.UTC(), true
			return nil
		}
	}
	return fmt.Errorf("cannot parse time %q", s)
}
