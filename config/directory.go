package config

import (
	"strings"

	"github.com/robfig/cron/v3"
)

// DirectoryConfig is the company directory (通讯录) sync section.
type DirectoryConfig struct {
	// SyncCron is when the scheduled sync runs (five cron fields or a
	// descriptor such as @daily, read in timezone unless it starts with
	// CRON_TZ=); empty means no scheduled sync (the CLI still syncs).
	SyncCron string `yaml:"sync_cron"`
	// Platforms are the platforms whose directories are synced; empty
	// means every enabled platform among wecom, feishu and dingtalk. The
	// order is also the profile priority for people on several.
	Platforms []string `yaml:"platforms"`
	// MaxDeactivatePercent: a sync that would deactivate more than this
	// share of a platform's active members deactivates nobody.
	MaxDeactivatePercent int `yaml:"max_deactivate_percent"`
	// Concurrency is how many directory calls a sync makes at once.
	Concurrency int `yaml:"concurrency"`
}

// directoryCron parses like the scheduler does.
var directoryCron = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func (c *Config) validateDirectory(p *problems) {
	d := c.Directory
	if s := strings.TrimSpace(d.SyncCron); s != "" {
		if (strings.HasPrefix(s, "TZ=") || strings.HasPrefix(s, "CRON_TZ=")) && !strings.Contains(s, " ") {
			p.add("directory.sync_cron", "%q names a zone but no schedule", s)
		} else if _, err := directoryCron.Parse(s); err != nil {
			p.add("directory.sync_cron", "%q is not a cron spec: %v", s, err)
		}
	}
	seen := map[string]bool{}
	for _, pl := range d.Platforms {
		switch {
		case pl != PlatformWeCom && pl != PlatformFeishu && pl != PlatformDingTalk:
			p.add("directory.platforms", "%q is not one of wecom, feishu, dingtalk", pl)
		case seen[pl]:
			p.add("directory.platforms", "%q is listed twice", pl)
		}
		seen[pl] = true
	}
	if d.MaxDeactivatePercent < 1 || d.MaxDeactivatePercent > 100 {
		p.add("directory.max_deactivate_percent", "must be between 1 and 100, got %d", d.MaxDeactivatePercent)
	}
	p.atLeast("directory.concurrency", d.Concurrency, 1)
}
