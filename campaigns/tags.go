package campaigns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/store"
)

// Tags is an employee's tags, as audiences match them.
type Tags struct {
	ID         uint64   `json:"id"`
	ExternalID string   `json:"external_id"`
	Tags       []string `json:"tags"`
}

// SetTags replaces an employee's tags (one tag per entry; normalized,
// sorted, without duplicates) and writes the audit row, in one transaction;
// bad tags change nothing.
func (s *Service) SetTags(ctx context.Context, employeeID uint64, tags []string, actor string) (Tags, error) {
	for i, t := range tags {
		if strings.ContainsAny(t, ",，;；|") {
			return Tags{}, &InvalidError{Fields: []FieldError{{Field: fmt.Sprintf("tags[%d]", i), Code: CodeBadTag, Message: "one tag per entry (no , ; or |)"}}}
		}
	}
	norm, err := store.NormalizeTags(strings.Join(tags, ","))
	if err != nil {
		return Tags{}, &InvalidError{Fields: []FieldError{{Field: "tags", Code: CodeBadValue, Message: err.Error()}}}
	}
	var e store.Employee
	err = store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		if err := tx.Select("id", "external_id", "tags").Where("id = ?", employeeID).Take(&e).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return fmt.Errorf("employee %d: %w", employeeID, ErrNotFound)
			}
			return fmt.Errorf("load employee: %w", err)
		}
		now := s.now()
		if err := tx.Model(&store.Employee{}).Where("id = ?", employeeID).Updates(map[string]any{"tags": norm, "updated_at": now}).Error; err != nil {
			return fmt.Errorf("set tags: %w", err)
		}
		b, _ := json.Marshal(map[string]any{"from": e.Tags, "to": norm})
		return tx.Create(&store.AuditLog{Actor: actorOr(actor), Action: "employee.tags", Object: fmt.Sprintf("employee:%d", employeeID), Detail: string(b), CreatedAt: now}).Error
	})
	if err != nil {
		return Tags{}, err
	}
	out := Tags{ID: e.ID, ExternalID: e.ExternalID, Tags: []string{}}
	if norm != "" {
		out.Tags = strings.Split(norm, ",")
	}
	return out, nil
}

// Count returns how many active employees the audience chooses right now.
func (s *Service) Count(ctx context.Context, a Audience) (int64, error) {
	return Count(ctx, s.DB, a)
}

// Suggestions are the values an audience form offers: the departments,
// titles, cities and tags of active employees and the conversion events
// recorded so far, each sorted.
type Suggestions struct {
	Departments, Titles, Cities, Tags, Events []string
}

// Suggestions reads the values an audience form offers (at most 500
// departments, titles and cities each, the tags of 2000 distinct tag sets,
// 200 events).
func (s *Service) Suggestions(ctx context.Context) (Suggestions, error) {
	var sg Suggestions
	db := s.DB.WithContext(ctx).Model(&store.Employee{}).Where("active = ?", true)
	for _, x := range []struct {
		col string
		dst *[]string
	}{{"department", &sg.Departments}, {"title", &sg.Titles}, {"city", &sg.Cities}} {
		if err := db.Session(&gorm.Session{}).Distinct(x.col).Where(x.col+" <> ''").Order(x.col).Limit(500).Pluck(x.col, x.dst).Error; err != nil {
			return sg, fmt.Errorf("suggest %ss: %w", x.col, err)
		}
	}
	var tags []string
	if err := db.Session(&gorm.Session{}).Distinct("tags").Where("tags <> ''").Limit(2000).Pluck("tags", &tags).Error; err != nil {
		return sg, fmt.Errorf("suggest tags: %w", err)
	}
	ts := map[string]bool{}
	for _, t := range tags {
		for _, x := range strings.Split(t, ",") {
			ts[x] = true
		}
	}
	for t := range ts {
		sg.Tags = append(sg.Tags, t)
	}
	sort.Strings(sg.Tags)
	if err := s.DB.WithContext(ctx).Model(&store.Conversion{}).Distinct("event").Order("event").Limit(200).Pluck("event", &sg.Events).Error; err != nil {
		return sg, fmt.Errorf("suggest events: %w", err)
	}
	return sg, nil
}
