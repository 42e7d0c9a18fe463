package command

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/learnloop/learnloop/plan"
	"github.com/learnloop/learnloop/store"
)

// CourseInput creates or changes a course; nil fields keep their value
// (on create: empty, target level 1).
type CourseInput struct {
	Code        *string
	Title       *string
	Category    *string
	TargetLevel *int
	Behaviours  *[]string
	Owner       *string
	// CalendarInvite is InviteOn, InviteOff or InviteInherit
	// (calendar.invite_default) for the course's sessions; nil keeps it.
	CalendarInvite *string
	// Invalid are the caller's own parse errors; they join the command's
	// and nothing is stored.
	Invalid []FieldError
}

// apply sets in on c and returns the audit detail.
func (s *Service) applyCourse(ctx context.Context, a Actor, in CourseInput, c *store.Course) (map[string]any, error) {
	fs := callerFields(in.Invalid)
	trim := func(dst *string, v *string) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
		}
	}
	trim(&c.Code, in.Code)
	trim(&c.Title, in.Title)
	trim(&c.Category, in.Category)
	oldOwner := c.Owner
	switch {
	case a.Admin():
		trim(&c.Owner, in.Owner)
	case c.ID == 0:
		c.Owner = a.Name // a coordinator's courses are their own
	}
	if in.TargetLevel != nil {
		c.TargetLevel = *in.TargetLevel
	}
	behaviours := []string{}
	_ = json.Unmarshal([]byte(c.Behaviours), &behaviours)
	if in.Behaviours != nil {
		behaviours = append([]string{}, *in.Behaviours...)
	}
	b, _ := json.Marshal(behaviours)
	c.Behaviours = string(b)
	if c.TargetLevel == 0 && in.TargetLevel == nil {
		c.TargetLevel = 1
	}
	fs.inviteFlag(in.CalendarInvite, &c.CalendarInvite)
	var ps plan.Problems
	ps.CheckCourse(*c, behaviours)
	fs.problems(ps)
	if c.TargetLevel < 1 || c.TargetLevel > 5 {
		fs.add("target_level", CodeOutOfRange, "must be a Kirkpatrick/Phillips level 1–5", 1, 5)
	}
	if a.Admin() && !a.Token && c.Owner != "" && c.Owner != oldOwner && !fs.has("owner") {
		// A console admin picks the owner among the coordinators.
		var n int64
		if err := s.DB.WithContext(ctx).Model(&store.Account{}).Where("username = ? AND role = ?", c.Owner, store.RoleCoordinator).Count(&n).Error; err != nil {
			return nil, fmt.Errorf("check owner: %w", err)
		}
		if n == 0 {
			fs.add("owner", CodeUnknown, "is not a coordinator's account")
		}
	}
	if err := fs.err(); err != nil {
		return nil, err
	}
	return map[string]any{"code": c.Code, "title": c.Title, "category": c.Category, "target_level": c.TargetLevel,
		"behaviours": behaviours, "owner": c.Owner, "calendar_invite": InviteChoice(c.CalendarInvite)}, nil
}

// CreateCourse stores a new course. A coordinator owns the courses they
// create; department heads may not create any.
func (s *Service) CreateCourse(ctx context.Context, a Actor, in CourseInput) (store.Course, error) {
	if a.Role != store.RoleAdmin && a.Role != store.RoleCoordinator {
		return store.Course{}, fmt.Errorf("create course: %w", ErrForbidden)
	}
	var c store.Course
	detail, err := s.applyCourse(ctx, a, in, &c)
	if err != nil {
		return c, err
	}
	err = store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		c.ID = 0
		if err := tx.Create(&c).Error; err != nil {
			return err
		}
		return s.audit(tx, a, "course.create", fmt.Sprintf("course:%d", c.ID), detail)
	})
	return c, courseErr(c, err)
}

// UpdateCourse changes course id.
func (s *Service) UpdateCourse(ctx context.Context, a Actor, id uint64, in CourseInput) (store.Course, error) {
	var c store.Course
	if err := take(ctx, s.DB, &c, id, "course"); err != nil {
		return c, err
	}
	if !a.CanWrite(c) {
		return c, fmt.Errorf("course %d: %w", id, ErrForbidden)
	}
	was := InviteChoice(c.CalendarInvite)
	detail, err := s.applyCourse(ctx, a, in, &c)
	if err != nil {
		return c, err
	}
	err = store.Tx(ctx, s.DB, func(tx *gorm.DB) error {
		if err := tx.Save(&c).Error; err != nil {
			return err
		}
		if s.Calendar != nil && InviteChoice(c.CalendarInvite) != was {
			if err := s.Calendar.CourseChanged(ctx, tx, c.ID); err != nil {
				return err
			}
		}
		return s.audit(tx, a, "course.update", fmt.Sprintf("course:%d", c.ID), detail)
	})
	return c, courseErr(c, err)
}

func courseErr(c store.Course, err error) error {
	switch {
	case err == nil:
		return nil
	case store.IsDuplicate(err):
		return fmt.Errorf("course code %q: %w", c.Code, ErrDuplicate)
	}
	return fmt.Errorf("store course: %w", err)
}
