package bot

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the core loop's Prometheus series. A nil *Metrics records nothing.
type Metrics struct {
	Deliveries   *prometheus.CounterVec // platform, status
	Interactions *prometheus.CounterVec // platform, action, outcome
	Clicks       *prometheus.CounterVec // ua
	CardUpdates  *prometheus.CounterVec // platform, outcome
}

// NewMetrics creates and registers the series on reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "learnloop_deliveries_total", Help: "Deliveries by platform and final status of the attempt.",
		}, []string{"platform", "status"}),
		Interactions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "learnloop_callbacks_total", Help: "Interactions (button taps, answers) by platform, action and outcome.",
		}, []string{"platform", "action", "outcome"}),
		Clicks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "learnloop_link_clicks_total", Help: "Tracked-link clicks by user-agent class.",
		}, []string{"ua"}),
		CardUpdates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "learnloop_card_updates_total", Help: "In-place card updates by platform and outcome.",
		}, []string{"platform", "outcome"}),
	}
	if reg != nil {
		reg.MustRegister(m.Deliveries, m.Interactions, m.Clicks, m.CardUpdates)
	}
	return m
}

func (m *Metrics) delivery(platform, status string) {
	if m != nil {
		m.Deliveries.WithLabelValues(platform, status).Inc()
	}
}

func (m *Metrics) interaction(platform, action, outcome string) {
	if m != nil {
		m.Interactions.WithLabelValues(platform, action, outcome).Inc()
	}
}

// Click counts one tracked-link click.
func (m *Metrics) Click(ua string) {
	if m != nil {
		m.Clicks.WithLabelValues(ua).Inc()
	}
}

func (m *Metrics) cardUpdate(platform, outcome string) {
	if m != nil {
		m.CardUpdates.WithLabelValues(platform, outcome).Inc()
	}
}
