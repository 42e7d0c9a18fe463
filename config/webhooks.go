package config

import "time"

// WebhooksConfig is the outbound webhooks section (package webhooks).
type WebhooksConfig struct {
	// AllowPrivateTargets lets endpoints point at loopback, private and
	// link-local addresses (tests, receivers inside the same network);
	// off, such targets are refused when saved and on every connection.
	AllowPrivateTargets bool `yaml:"allow_private_targets"`
	// Timeout bounds one POST to a receiver.
	Timeout Duration `yaml:"timeout"`
	// MaxAttempts before a delivery is marked failed (redeliver gives it
	// a fresh budget).
	MaxAttempts int `yaml:"max_attempts"`
	// BackoffBase and BackoffMax: the delay after attempt n is
	// base·2^(n−1), capped at max.
	BackoffBase Duration `yaml:"backoff_base"`
	BackoffMax  Duration `yaml:"backoff_max"`
	// PollInterval is how often the dispatch job looks for new events.
	PollInterval Duration `yaml:"poll_interval"`
	// Concurrency is how many POSTs run at once.
	Concurrency int `yaml:"concurrency"`
	// Retention is how long settled deliveries, their attempt log and
	// sent events are kept.
	Retention Duration `yaml:"retention"`
}

func webhookDefaults() WebhooksConfig {
	return WebhooksConfig{
		Timeout: Duration(10 * time.Second), MaxAttempts: 8, BackoffBase: Duration(30 * time.Second),
		BackoffMax: Duration(time.Hour), PollInterval: Duration(5 * time.Second), Concurrency: 4,
		Retention: Duration(30 * 24 * time.Hour),
	}
}

func (c *Config) validateWebhooks(p *problems) {
	w := c.Webhooks
	if w.Timeout.D() < 100*time.Millisecond || w.Timeout.D() > 2*time.Minute {
		p.add("webhooks.timeout", "must be between 100ms and 2m, got %s", w.Timeout)
	}
	p.atLeast("webhooks.max_attempts", w.MaxAttempts, 1)
	p.atLeast("webhooks.concurrency", w.Concurrency, 1)
	if w.BackoffBase.D() <= 0 {
		p.add("webhooks.backoff_base", "must be positive, got %s", w.BackoffBase)
	}
	if w.BackoffMax.D() < w.BackoffBase.D() {
		p.add("webhooks.backoff_max", "must be at least webhooks.backoff_base (%s), got %s", w.BackoffBase, w.BackoffMax)
	}
	if w.Retention.D() < time.Hour {
		p.add("webhooks.retention", "must be at least 1h, got %s", w.Retention)
	}
	if w.PollInterval.D() < 100*time.Millisecond {
		p.add("webhooks.poll_interval", "must be at least 100ms, got %s", w.PollInterval)
	}
}
