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
			Name: "learnloop_deliveries_total", Help: "Delivery state changes by platform and new status: sending (claimed), resent (taken over from a run that died), pending (handed back or transient failure), sent, failed, dropped.",
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

// StorageErrorCounter is implemented by interaction handlers (the Router)
// that count the taps an adapter could not get stored on a path the
// platform never redelivers (DingTalk Stream and Feishu card callbacks):
// the tapper was asked to tap again, and the tap is lost unless they do.
type StorageErrorCounter interface {
	CallbackStorageError(platform Platform, action string)
}

// CallbackStorageError counts one such tap as outcome "storage_error" of
// learnloop_callbacks_total. The router may also have counted the same tap
// as "error"; storage_error says the platform will not deliver it again.
func (m *Metrics) CallbackStorageError(platform Platform, action string) {
	switch action {
	case ActionCheckin, ActionRate, ActionNPS:
	default:
		action = "other" // unverified input: keep the label set small
	}
	m.interaction(string(platform), action, "storage_error")
}

// CallbackStorageError implements StorageErrorCounter with r's metrics.
func (r *Router) CallbackStorageError(platform Platform, action string) {
	r.Metrics.CallbackStorageError(platform, action)
}
