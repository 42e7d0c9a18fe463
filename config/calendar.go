package config

// CalendarConfig is the calendar invites section (package calendar): a
// session in its attendees' platform calendars (WeCom 日程, Feishu
// calendar, DingTalk 日程).
type CalendarConfig struct {
	// InviteDefault is whether sessions are put in the attendees' calendars
	// when neither the session nor its course says (default off).
	InviteDefault bool `yaml:"invite_default"`
	// MaxAttempts of one calendar.sync job before it is failed (the
	// session's next change starts a fresh one).
	MaxAttempts int `yaml:"max_attempts"`
}

func calendarDefaults() CalendarConfig {
	return CalendarConfig{MaxAttempts: 10}
}

func (c *Config) validateCalendar(p *problems) {
	p.atLeast("calendar.max_attempts", c.Calendar.MaxAttempts, 1)
}
