// Package surveys holds questionnaire definitions (the templates shipped with
// the binary and those defined by coordinators), answer validation, and the
// survey metrics (NPS, CSAT/top-2-box, response rate, behaviour change) with
// their margins of error.
package surveys

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// Question types.
const (
	// TypeRating is a 5-point satisfaction rating, integers 1–5.
	TypeRating = "rating"
	// TypeNPS is the 0–10 likelihood-to-recommend question.
	TypeNPS = "nps"
	// TypeSingle is a single choice among the question's options.
	TypeSingle = "single"
	// TypeMulti is a choice of one or more distinct options.
	TypeMulti = "multi"
	// TypeFrequency is a 5-point frequency scale: 1..5 = Never, Rarely,
	// Sometimes, Often, Always.
	TypeFrequency = "frequency"
	// TypeChange is the perceived-change scale, integers −3..+3.
	TypeChange = "change"
	// TypeText is free text of at most MaxTextRunes runes.
	TypeText = "text"
)

// Report dimensions used by the built-in feedback template.
const (
	// DimensionTeacher groups questions about the teacher.
	DimensionTeacher = "teacher"
	// DimensionCourse groups questions about the course content.
	DimensionCourse = "course"
	// DimensionOrganisation groups questions about the organisation and
	// logistics.
	DimensionOrganisation = "organisation"
)

// Phases of a retrospective ("then-test") behaviour pair.
const (
	// PhaseBefore marks the "before the training" question of a pair.
	PhaseBefore = "before"
	// PhaseNow marks the "now" question of a pair.
	PhaseNow = "now"
)

// Limits of definitions and answers.
const (
	// MinBehaviours and MaxBehaviours bound the observable behaviours of a
	// manager follow-up.
	MinBehaviours = 2
	MaxBehaviours = 4
	// MaxTextRunes is the longest accepted free-text answer.
	MaxTextRunes = 2000
	// MaxBehaviourRunes is the longest accepted behaviour description.
	MaxBehaviourRunes = 200
	// MaxQuestions is the most questions a definition may have.
	MaxQuestions = 100
	// MinOptions and MaxOptions bound the options of single and multi questions.
	MinOptions = 2
	MaxOptions = 20
	// MaxTitleRunes bounds a definition's title in each locale (the stored
	// title column holds 255 characters).
	MaxTitleRunes = 255
	// MaxQuestionTextRunes bounds question, help and intro texts in each locale.
	MaxQuestionTextRunes = 1000
	// MaxOptionLabelRunes bounds an option label in each locale.
	MaxOptionLabelRunes = 200
)

// BehaviourPlaceholder is replaced by the behaviour's text when a manager
// follow-up template is expanded; every text of a placeholder question must
// contain it.
const BehaviourPlaceholder = "{behaviour}"

// Localized is a text in several locales, keyed by tag ("zh-CN", "en").
type Localized map[string]string

// In returns the text for loc: a text whose tag spells loc exactly (tags
// compare case-insensitively, '_' equal to '-'), else one in the same
// language ("en-US" serves en, "zh" serves zh-CN), else the zh-CN text,
// else the non-empty text of the alphabetically first tag, else "". Empty
// texts count as missing.
func (l Localized) In(loc text.Locale) string {
	keys := make([]string, 0, len(l))
	for k, v := range l {
		if strings.TrimSpace(v) != "" {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return ""
	}
	sort.Strings(keys)
	for _, want := range []text.Locale{text.Parse(string(loc)), text.ZH} {
		same := ""
		for _, k := range keys {
			if m, ok := text.Match(k); ok && m == want {
				if strings.EqualFold(strings.ReplaceAll(strings.TrimSpace(k), "_", "-"), string(want)) {
					return l[k]
				}
				if same == "" {
					same = k
				}
			}
		}
		if same != "" {
			return l[same]
		}
	}
	return l[keys[0]]
}

// hasZH reports whether l has a non-blank zh-CN text.
func (l Localized) hasZH() bool { return strings.TrimSpace(l[string(text.ZH)]) != "" }

func (l Localized) clone() Localized { return maps.Clone(l) }

// Option is one choice of a single or multi question.
type Option struct {
	ID    string    `yaml:"id" json:"id"`
	Label Localized `yaml:"label" json:"label"`
}

// Question is one item of a questionnaire.
type Question struct {
	Key       string    `yaml:"key" json:"key"` // [a-z0-9_]{1,64}, unique in a definition
	Type      string    `yaml:"type" json:"type"`
	Required  bool      `yaml:"required" json:"required"`
	Text      Localized `yaml:"text" json:"text"`
	Help      Localized `yaml:"help,omitempty" json:"help,omitempty"`
	Options   []Option  `yaml:"options,omitempty" json:"options,omitempty"`     // single/multi only (2–20)
	Dimension string    `yaml:"dimension,omitempty" json:"dimension,omitempty"` // report grouping: "teacher", "course", "organisation", …
	Behaviour int       `yaml:"behaviour,omitempty" json:"behaviour,omitempty"` // 1-based behaviour index of a before/now pair; 0 with Phase set = placeholder
	Phase     string    `yaml:"phase,omitempty" json:"phase,omitempty"`         // "before" | "now" for retrospective pairs
}

// Definition is a versioned questionnaire.
type Definition struct {
	Key       string     `yaml:"key" json:"key"`
	Version   int        `yaml:"version" json:"version"`
	Kind      string     `yaml:"kind" json:"kind"` // feedback | nps | manager_followup | custom
	Title     Localized  `yaml:"title" json:"title"`
	Intro     Localized  `yaml:"intro,omitempty" json:"intro,omitempty"`
	Questions []Question `yaml:"questions" json:"questions"`
}

var (
	keyPattern    = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)
	optionPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

func validType(t string) bool {
	switch t {
	case TypeRating, TypeNPS, TypeSingle, TypeMulti, TypeFrequency, TypeChange, TypeText:
		return true
	}
	return false
}

func validKind(k string) bool {
	switch k {
	case store.SurveyFeedback, store.SurveyNPS, store.SurveyManagerFollowup, store.SurveyCustom:
		return true
	}
	return false
}

// isPlaceholder reports whether q stands for "each behaviour of the course".
func (q Question) isPlaceholder() bool { return q.Phase != "" && q.Behaviour == 0 }

// Validate checks the definition and returns errors.Join of every problem
// found (nil when there is none). Definition-level problems start with
// "definition:", question problems with `question "key":` (or the question's
// position when its key is unusable).
//
// Rules: the key matches [a-z0-9_]{1,64}; version ≥ 1; kind is one of
// feedback, nps, manager_followup, custom (the store.Survey* kinds); the
// title (and intro and every help text, when given) has a zh-CN text; titles
// are at most MaxTitleRunes, other texts MaxQuestionTextRunes and option
// labels MaxOptionLabelRunes runes in each locale; 1–MaxQuestions questions
// with unique keys matching [a-z0-9_]{1,64}, a known type and a zh-CN text;
// single and multi questions have 2–20 options with unique ids
// ([A-Za-z0-9_-]{1,64}) and zh-CN labels, other types have none; a
// dimension, when set, matches [a-z0-9_]{1,64}; Phase is "", "before" or
// "now" and only on frequency questions; Behaviour is 0–MaxBehaviours and
// needs a Phase; indexed pairs run 1..n with exactly one before and one now
// question each. A kind nps definition has exactly one nps question. A
// manager_followup definition either is a template — exactly one before and
// one now placeholder (Behaviour 0), whose texts in every locale contain
// BehaviourPlaceholder — or is expanded, with MinBehaviours–MaxBehaviours
// pairs and no placeholders. Other kinds have no placeholders.
func (d Definition) Validate() error {
	var errs []error
	deff := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("definition: "+format, args...))
	}
	if !keyPattern.MatchString(d.Key) {
		deff("key %q must be 1–64 characters of a-z, 0-9 and _", d.Key)
	}
	if d.Version < 1 {
		deff("version must be 1 or more, got %d", d.Version)
	}
	if !validKind(d.Kind) {
		deff("kind %q must be one of feedback, nps, manager_followup, custom", d.Kind)
	}
	if !d.Title.hasZH() {
		deff("title has no zh-CN text")
	}
	errs = append(errs, checkLengths("definition: title", d.Title, MaxTitleRunes)...)
	if len(d.Intro) > 0 && !d.Intro.hasZH() {
		deff("intro has no zh-CN text")
	}
	errs = append(errs, checkLengths("definition: intro", d.Intro, MaxQuestionTextRunes)...)
	switch n := len(d.Questions); {
	case n == 0:
		deff("has no questions")
	case n > MaxQuestions:
		deff("has %d questions, at most %d are allowed", n, MaxQuestions)
	}

	seen := make(map[string]int, len(d.Questions))
	type pair struct{ before, now int }
	pairs := map[int]*pair{}
	var placeholders pair
	npsCount := 0
	for i, q := range d.Questions {
		name := fmt.Sprintf("question %q", q.Key)
		if !keyPattern.MatchString(q.Key) {
			name = fmt.Sprintf("question #%d (key %q)", i+1, q.Key)
			errs = append(errs, fmt.Errorf("%s: key must be 1–64 characters of a-z, 0-9 and _", name))
		} else if j, dup := seen[q.Key]; dup {
			errs = append(errs, fmt.Errorf("%s: duplicate key (questions #%d and #%d)", name, j+1, i+1))
		} else {
			seen[q.Key] = i
		}
		qerr := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf(name+": "+format, args...))
		}
		if !validType(q.Type) {
			qerr("type %q must be one of rating, nps, single, multi, frequency, change, text", q.Type)
		}
		if q.Type == TypeNPS {
			npsCount++
		}
		if !q.Text.hasZH() {
			qerr("text has no zh-CN text")
		}
		errs = append(errs, checkLengths(name+": text", q.Text, MaxQuestionTextRunes)...)
		if len(q.Help) > 0 && !q.Help.hasZH() {
			qerr("help has no zh-CN text")
		}
		errs = append(errs, checkLengths(name+": help", q.Help, MaxQuestionTextRunes)...)

		switch q.Type {
		case TypeSingle, TypeMulti:
			if n := len(q.Options); n < MinOptions || n > MaxOptions {
				qerr("type %s needs %d–%d options, has %d", q.Type, MinOptions, MaxOptions, n)
			}
			ids := map[string]bool{}
			for j, o := range q.Options {
				if !optionPattern.MatchString(o.ID) {
					qerr("option #%d id %q must be 1–64 characters of A-Z, a-z, 0-9, _ and -", j+1, o.ID)
				} else if ids[o.ID] {
					qerr("duplicate option id %q", o.ID)
				}
				ids[o.ID] = true
				if !o.Label.hasZH() {
					qerr("option %q has no zh-CN label", o.ID)
				}
				errs = append(errs, checkLengths(fmt.Sprintf("%s: option %q label", name, o.ID), o.Label, MaxOptionLabelRunes)...)
			}
		default:
			if len(q.Options) > 0 {
				qerr("options are not allowed for type %s", q.Type)
			}
		}
		if q.Dimension != "" && !keyPattern.MatchString(q.Dimension) {
			qerr("dimension %q must be 1–64 characters of a-z, 0-9 and _", q.Dimension)
		}

		switch q.Phase {
		case "", PhaseBefore, PhaseNow:
		default:
			qerr("phase %q must be before or now", q.Phase)
		}
		if q.Phase != "" && q.Type != TypeFrequency {
			qerr("phase is only allowed on frequency questions, not %s", q.Type)
		}
		if q.Behaviour < 0 || q.Behaviour > MaxBehaviours {
			qerr("behaviour %d must be 1–%d", q.Behaviour, MaxBehaviours)
		}
		if q.Behaviour != 0 && q.Phase == "" {
			qerr("behaviour %d needs a phase (before or now)", q.Behaviour)
		}
		if q.Phase == PhaseBefore || q.Phase == PhaseNow {
			var p *pair
			if q.Behaviour == 0 {
				p = &placeholders
				if d.Kind != store.SurveyManagerFollowup {
					qerr("behaviour placeholders (phase without behaviour) are only allowed in manager_followup definitions")
				}
				for _, loc := range sortedLocales(q.Text) {
					if txt := q.Text[loc]; strings.TrimSpace(txt) != "" && !strings.Contains(txt, BehaviourPlaceholder) {
						qerr("placeholder text (%s) must contain %s", loc, BehaviourPlaceholder)
					}
				}
			} else if q.Behaviour > 0 && q.Behaviour <= MaxBehaviours {
				if pairs[q.Behaviour] == nil {
					pairs[q.Behaviour] = &pair{}
				}
				p = pairs[q.Behaviour]
			}
			if p != nil {
				if q.Phase == PhaseBefore {
					p.before++
				} else {
					p.now++
				}
			}
		}
	}

	if placeholders.before > 1 || placeholders.now > 1 {
		deff("more than one before or now behaviour placeholder")
	}
	if (placeholders.before == 0) != (placeholders.now == 0) {
		deff("behaviour placeholders need both a before and a now question")
	}
	for b := 1; b <= len(pairs); b++ {
		p := pairs[b]
		if p == nil {
			deff("behaviour indices must run 1..%d without gaps: %d is missing", len(pairs), b)
			continue
		}
		if p.before != 1 || p.now != 1 {
			deff("behaviour %d needs exactly one before and one now question, has %d and %d", b, p.before, p.now)
		}
	}
	if d.Kind == store.SurveyNPS && npsCount != 1 {
		deff("an nps survey needs exactly one nps question, has %d", npsCount)
	}
	hasPlaceholders := placeholders.before+placeholders.now > 0
	if d.Kind == store.SurveyManagerFollowup {
		switch {
		case hasPlaceholders && len(pairs) > 0:
			deff("mixes behaviour placeholders with expanded behaviours")
		case !hasPlaceholders && len(pairs) == 0:
			deff("a manager_followup survey needs behaviour placeholders or %d–%d behaviour pairs", MinBehaviours, MaxBehaviours)
		case !hasPlaceholders && len(pairs) < MinBehaviours:
			deff("a manager_followup survey needs %d–%d behaviours, has %d", MinBehaviours, MaxBehaviours, len(pairs))
		}
	}
	return errors.Join(errs...)
}

func checkLengths(name string, l Localized, max int) []error {
	var errs []error
	for _, loc := range sortedLocales(l) {
		if strings.TrimSpace(loc) == "" {
			errs = append(errs, fmt.Errorf("%s has an empty locale tag", name))
			continue
		}
		if !utf8.ValidString(l[loc]) {
			errs = append(errs, fmt.Errorf("%s (%s) is not valid UTF-8", name, loc))
		} else if n := utf8.RuneCountInString(l[loc]); n > max {
			errs = append(errs, fmt.Errorf("%s (%s) has %d characters, at most %d are allowed", name, loc, n, max))
		}
	}
	return errs
}

func sortedLocales(l Localized) []string {
	locs := make([]string, 0, len(l))
	for k := range l {
		locs = append(locs, k)
	}
	sort.Strings(locs)
	return locs
}

// Question returns the question with key, and whether there is one.
func (d Definition) Question(key string) (Question, bool) {
	for _, q := range d.Questions {
		if q.Key == key {
			return q, true
		}
	}
	return Question{}, false
}

// IsTemplate reports whether d still has behaviour placeholders that
// ExpandBehaviours must instantiate before it can be asked.
func (d Definition) IsTemplate() bool {
	return slices.ContainsFunc(d.Questions, Question.isPlaceholder)
}

// Clone returns a deep copy of d: changing the copy's maps and slices leaves
// d unchanged.
func (d Definition) Clone() Definition {
	c := d
	c.Title = d.Title.clone()
	c.Intro = d.Intro.clone()
	c.Questions = cloned(d.Questions, Question.clone)
	return c
}

func (q Question) clone() Question {
	c := q
	c.Text = q.Text.clone()
	c.Help = q.Help.clone()
	c.Options = cloned(q.Options, Option.clone)
	return c
}

func (o Option) clone() Option { return Option{ID: o.ID, Label: o.Label.clone()} }

// cloned is a copy of s with each element copied by clone (nil stays nil).
func cloned[T any](s []T, clone func(T) T) []T {
	if s == nil {
		return nil
	}
	out := make([]T, len(s))
	for i, v := range s {
		out[i] = clone(v)
	}
	return out
}

// ExpandBehaviours returns a copy of a manager_followup template in which the
// behaviour placeholders are instantiated for each of the course's 2–4
// behaviours: for behaviour i (1-based, in the given order) a "before" and a
// "now" frequency question with keys b{i}_before and b{i}_now, Behaviour = i,
// Phase set, and BehaviourPlaceholder in every text replaced by the
// behaviour's (trimmed) text. The pairs take the place of the placeholders;
// the template's other questions (the overall change item, the optional
// barriers and enablers text items) keep their order after them. Fewer than
// 2 or more than 4 behaviours, a blank, duplicate or over-long
// (MaxBehaviourRunes) behaviour, or a definition that is not a valid
// manager_followup template is an error. d is not modified.
func (d Definition) ExpandBehaviours(behaviours []string) (Definition, error) {
	if d.Kind != store.SurveyManagerFollowup {
		return Definition{}, fmt.Errorf("surveys: expand behaviours: definition %q is of kind %q, not %s", d.Key, d.Kind, store.SurveyManagerFollowup)
	}
	if !d.IsTemplate() {
		return Definition{}, fmt.Errorf("surveys: expand behaviours: definition %q has no behaviour placeholders", d.Key)
	}
	if err := d.Validate(); err != nil {
		return Definition{}, fmt.Errorf("surveys: expand behaviours: invalid template %q: %w", d.Key, err)
	}
	if n := len(behaviours); n < MinBehaviours || n > MaxBehaviours {
		return Definition{}, fmt.Errorf("surveys: expand behaviours: a course needs %d–%d behaviours, got %d", MinBehaviours, MaxBehaviours, n)
	}
	texts := make([]string, len(behaviours))
	for i, b := range behaviours {
		b = strings.TrimSpace(b)
		switch {
		case b == "":
			return Definition{}, fmt.Errorf("surveys: expand behaviours: behaviour %d is empty", i+1)
		case !utf8.ValidString(b):
			return Definition{}, fmt.Errorf("surveys: expand behaviours: behaviour %d is not valid UTF-8", i+1)
		case utf8.RuneCountInString(b) > MaxBehaviourRunes:
			return Definition{}, fmt.Errorf("surveys: expand behaviours: behaviour %d has more than %d characters", i+1, MaxBehaviourRunes)
		case slices.Contains(texts[:i], b):
			return Definition{}, fmt.Errorf("surveys: expand behaviours: behaviour %d repeats an earlier behaviour", i+1)
		}
		texts[i] = b
	}

	var before, now Question
	for _, q := range d.Questions {
		if q.isPlaceholder() {
			if q.Phase == PhaseBefore {
				before = q
			} else {
				now = q
			}
		}
	}
	out := d.Clone()
	out.Questions = make([]Question, 0, len(d.Questions)-2+2*len(texts))
	inserted := false
	for _, q := range d.Questions {
		if !q.isPlaceholder() {
			out.Questions = append(out.Questions, q.clone())
			continue
		}
		if inserted {
			continue
		}
		inserted = true
		for i, b := range texts {
			out.Questions = append(out.Questions,
				instantiate(before, i+1, b),
				instantiate(now, i+1, b))
		}
	}
	if err := out.Validate(); err != nil {
		return Definition{}, fmt.Errorf("surveys: expand behaviours: %w", err)
	}
	return out, nil
}

func instantiate(p Question, index int, behaviour string) Question {
	q := p.clone()
	q.Key = fmt.Sprintf("b%d_%s", index, p.Phase)
	q.Behaviour = index
	for k, v := range q.Text {
		q.Text[k] = strings.ReplaceAll(v, BehaviourPlaceholder, behaviour)
	}
	for k, v := range q.Help {
		q.Help[k] = strings.ReplaceAll(v, BehaviourPlaceholder, behaviour)
	}
	return q
}

// ScalePoint is one allowed value of a numeric question with its label.
type ScalePoint struct {
	Value int       `json:"value"`
	Label Localized `json:"label"`
}

// Range returns the smallest and largest accepted answer of a numeric
// question (rating, nps, frequency, change); ok is false for other types.
func (q Question) Range() (lo, hi int, ok bool) {
	switch q.Type {
	case TypeRating, TypeFrequency:
		return 1, 5, true
	case TypeNPS:
		return 0, 10, true
	case TypeChange:
		return -3, 3, true
	}
	return 0, 0, false
}

// catalogued is the text of key in every locale, for the labels the
// catalogue gives built-in scales.
func catalogued(key string) Localized {
	l := make(Localized, len(text.Locales))
	for _, loc := range text.Locales {
		l[string(loc)] = text.T(loc, key)
	}
	return l
}

// Scale returns every accepted value of a numeric question in ascending
// order with its label: rating 1–5 (very dissatisfied … very satisfied),
// frequency 1–5 (Never, Rarely, Sometimes, Often, Always), change −3..+3
// (much worse … much better), nps 0–10 (the number itself). It returns nil
// for single, multi and text questions.
func (q Question) Scale() []ScalePoint {
	lo, hi, ok := q.Range()
	if !ok {
		return nil
	}
	out := make([]ScalePoint, 0, hi-lo+1)
	for v := lo; v <= hi; v++ {
		var l Localized
		switch q.Type {
		case TypeRating:
			l = catalogued("surveys:rating." + strconv.Itoa(v))
		case TypeFrequency:
			l = catalogued("surveys:freq." + strconv.Itoa(v))
		case TypeChange:
			l = catalogued("surveys:change." + strconv.Itoa(v))
			s := strconv.Itoa(v)
			if v > 0 {
				s = "+" + s
			}
			for k := range l {
				l[k] = s + " " + l[k]
			}
		default:
			s := strconv.Itoa(v)
			l = Localized{string(text.ZH): s, string(text.EN): s}
		}
		out = append(out, ScalePoint{Value: v, Label: l})
	}
	return out
}

// Answer is a validated answer. Numeric types set Number; a single choice
// sets Text to the option id; a multiple choice sets Text to a JSON array of
// the chosen option ids in the question's option order; a text answer sets
// Text.
type Answer struct {
	Number *float64
	Text   string
}

// ErrEmpty is returned by Question.Parse when no answer was given (nothing,
// or only blank values); the caller decides whether the question was
// required.
var ErrEmpty = errors.New("no answer")

// ValidationError is an answer that cannot be accepted, with the message
// the respondent is shown (localized by the caller).
type ValidationError struct {
	Key     string       // the question's key
	Message text.Message // why, for the respondent
}

// Error returns the English message prefixed with the question key.
func (e *ValidationError) Error() string {
	return fmt.Sprintf("question %q: %s", e.Key, e.Message.In(text.EN))
}

// In returns the message in loc.
func (e *ValidationError) In(loc text.Locale) string { return e.Message.In(loc) }

// integerPattern is a plain base-10 integer: an optional sign, then 0 or a
// number without leading zeros, at most three digits.
var integerPattern = regexp.MustCompile(`^[+-]?(0|[1-9][0-9]{0,2})$`)

// Parse validates the values a respondent submitted for q (a form field may
// carry several values; only multi accepts more than one) and returns the
// answer to store. Surrounding whitespace is trimmed and blank values are
// ignored; when nothing is left the error is ErrEmpty.
//
// Numeric answers must be a plain base-10 integer — an optional + or − sign
// and digits without leading zeros ("9", "10", "-3", "+2"); "4.5", "10.0",
// "1e1", "09", "0x9", "abc" and full-width digits are rejected — within the
// type's range (rating and frequency 1–5, nps 0–10, change −3..+3). Choices
// must be option ids of q; a multi answer must not name an option twice. A
// text answer keeps its inner text (CRLF becomes LF), must be valid UTF-8
// without NUL and at most MaxTextRunes runes. Every rejection is a
// *ValidationError.
func (q Question) Parse(values []string) (Answer, error) {
	vals := make([]string, 0, len(values))
	for _, v := range values {
		if t := strings.TrimSpace(v); t != "" {
			vals = append(vals, t)
		}
	}
	if len(vals) == 0 {
		return Answer{}, ErrEmpty
	}
	if q.Type != TypeMulti && len(vals) > 1 {
		return Answer{}, q.invalid("surveys:answer.one_only")
	}
	switch q.Type {
	case TypeRating, TypeNPS, TypeFrequency, TypeChange:
		lo, hi, _ := q.Range()
		v := vals[0]
		if !integerPattern.MatchString(v) {
			return Answer{}, q.invalid("surveys:answer.not_integer", lo, hi)
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return Answer{}, q.invalid("surveys:answer.out_of_range", lo, hi)
		}
		f := float64(n)
		return Answer{Number: &f}, nil
	case TypeSingle:
		if !q.hasOption(vals[0]) {
			return Answer{}, q.invalid("surveys:answer.unknown_option", vals[0])
		}
		return Answer{Text: vals[0]}, nil
	case TypeMulti:
		chosen := make(map[string]bool, len(vals))
		for _, v := range vals {
			if !q.hasOption(v) {
				return Answer{}, q.invalid("surveys:answer.unknown_option", v)
			}
			if chosen[v] {
				return Answer{}, q.invalid("surveys:answer.chosen_twice", v)
			}
			chosen[v] = true
		}
		ids := make([]string, 0, len(vals))
		for _, o := range q.Options {
			if chosen[o.ID] {
				ids = append(ids, o.ID)
			}
		}
		b, err := json.Marshal(ids)
		if err != nil { // cannot happen for strings
			return Answer{}, fmt.Errorf("surveys: encode choices: %w", err)
		}
		return Answer{Text: string(b)}, nil
	case TypeText:
		v := strings.ReplaceAll(vals[0], "\r\n", "\n")
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return Answer{}, q.invalid("surveys:answer.bad_text")
		}
		if n := utf8.RuneCountInString(v); n > MaxTextRunes {
			return Answer{}, q.invalid("surveys:answer.too_long", MaxTextRunes, n)
		}
		return Answer{Text: v}, nil
	}
	return Answer{}, q.invalid("surveys:answer.bad_type", q.Type)
}

func (q Question) hasOption(id string) bool {
	return slices.ContainsFunc(q.Options, func(o Option) bool { return o.ID == id })
}

func (q Question) invalid(key string, args ...any) *ValidationError {
	return &ValidationError{Key: q.Key, Message: text.M(key, args...)}
}
