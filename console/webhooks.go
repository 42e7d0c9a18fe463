package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
	"github.com/learnloop/learnloop/webhooks"
)

// WebhookAdmin manages outbound webhooks (webhooks.Service); the API and
// the CLI call the same methods.
type WebhookAdmin interface {
	List(ctx context.Context, offset, limit int) ([]webhooks.Endpoint, error)
	Get(ctx context.Context, id uint64) (webhooks.Endpoint, error)
	Create(ctx context.Context, in webhooks.Input, actor string) (webhooks.Endpoint, error)
	Update(ctx context.Context, id uint64, in webhooks.Input, actor string) (webhooks.Endpoint, error)
	Delete(ctx context.Context, id uint64, actor string) error
	Deliveries(ctx context.Context, endpointID uint64, offset, limit int) ([]webhooks.Delivery, error)
	Redeliver(ctx context.Context, endpointID, deliveryID uint64, actor string) (webhooks.Delivery, error)
}

// webhookLogShown caps the deliveries listed for one endpoint.
const webhookLogShown = 100

type webhooksData struct {
	Endpoints []webhooks.Endpoint
	Events    []string
	Checked   map[string]bool // the form's ticked event types
	// Created is the endpoint just made, with its secret shown once.
	Created *webhooks.Endpoint
	// Log is the delivery log of the endpoint chosen with ?log=ID.
	LogOf *webhooks.Endpoint
	Log   []webhooks.Delivery
	Loc   *time.Location
}

// webhooksPage lists the endpoints (admins only), the form to add one and,
// with ?log=ID, that endpoint's deliveries with each attempt.
func (c *Console) webhooksPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	if !v.admin() || c.d.Webhooks == nil {
		c.forbidden(w, r, v)
		return
	}
	p := c.newPage(r, v, "webhooks.title")
	p.Form.Set("events", store.EventCheckin)
	c.renderWebhooks(w, r, v, p, http.StatusOK, nil)
}

func (c *Console) renderWebhooks(w http.ResponseWriter, r *http.Request, v *viewer, p *page, code int, created *webhooks.Endpoint) {
	p.Nav = "webhooks"
	es, err := c.d.Webhooks.List(r.Context(), 0, 1000)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	d := webhooksData{Endpoints: es, Events: store.EventTypes(), Checked: map[string]bool{}, Created: created, Loc: c.d.Location}
	for _, e := range p.Form["events"] {
		d.Checked[e] = true
	}
	if s := r.URL.Query().Get("log"); s != "" {
		id, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			c.notFound(w, r, v)
			return
		}
		ep, err := c.d.Webhooks.Get(r.Context(), id)
		if !c.loaded(w, r, v, err) {
			return
		}
		if d.Log, err = c.d.Webhooks.Deliveries(r.Context(), id, 0, webhookLogShown); err != nil {
			c.internal(w, r, v, err)
			return
		}
		d.LogOf = &ep
	}
	p.Data = d
	c.render(w, r, code, "webhooks", p)
}

// webhookFieldKeys are the messages of the service's invalid fields.
var webhookFieldKeys = errorKeys{
	"url": "webhooks.err_url", "events": "webhooks.err_events", "description": "webhooks.err_description", "secret": "webhooks.err_secret",
}

func (c *Console) webhookCreate(w http.ResponseWriter, r *http.Request, v *viewer) {
	if !v.admin() || c.d.Webhooks == nil {
		c.forbidden(w, r, v)
		return
	}
	p := c.newPage(r, v, "webhooks.title")
	f := r.PostForm
	target, desc := strings.TrimSpace(f.Get("url")), f.Get("description")
	events := f["events"]
	if events == nil {
		events = []string{}
	}
	e, err := c.d.Webhooks.Create(r.Context(), webhooks.Input{URL: &target, Events: events, Description: &desc}, v.name())
	if p.fieldErrors(err, webhookFieldKeys) {
		c.renderWebhooks(w, r, v, p, http.StatusUnprocessableEntity, nil)
		return
	}
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	// The secret is shown on this answer only: no redirect.
	p.Form = url.Values{"events": {store.EventCheckin}}
	p.Flash = "flash.webhook_created"
	c.renderWebhooks(w, r, v, p, http.StatusOK, &e)
}

// webhookEndpoint reads the {id} of a POST and checks the viewer is an admin.
func (c *Console) webhookEndpoint(w http.ResponseWriter, r *http.Request, v *viewer) (uint64, bool) {
	if !v.admin() || c.d.Webhooks == nil {
		c.forbidden(w, r, v)
		return 0, false
	}
	id, ok := pathID(r)
	if !ok {
		c.notFound(w, r, v)
	}
	return id, ok
}

// webhookDone answers a change: back to the list, or not found.
func (c *Console) webhookDone(w http.ResponseWriter, r *http.Request, v *viewer, err error, back, flash string) {
	switch {
	case errors.Is(err, webhooks.ErrNotFound):
		c.notFound(w, r, v)
	case err != nil:
		var inv *webhooks.InvalidError
		if errors.As(err, &inv) {
			c.renderError(w, r, v, http.StatusConflict, "webhooks.err_disabled")
			return
		}
		c.internal(w, r, v, err)
	default:
		c.redirectOK(w, r, back, flash)
	}
}

func (c *Console) webhookToggle(w http.ResponseWriter, r *http.Request, v *viewer) {
	id, ok := c.webhookEndpoint(w, r, v)
	if !ok {
		return
	}
	on := r.PostForm.Get("enabled") == "1"
	_, err := c.d.Webhooks.Update(r.Context(), id, webhooks.Input{Enabled: &on}, v.name())
	flash := "webhook_disabled"
	if on {
		flash = "webhook_enabled"
	}
	c.webhookDone(w, r, v, err, "/webhooks", flash)
}

func (c *Console) webhookDelete(w http.ResponseWriter, r *http.Request, v *viewer) {
	id, ok := c.webhookEndpoint(w, r, v)
	if !ok {
		return
	}
	ep, err := c.d.Webhooks.Get(r.Context(), id)
	if err != nil {
		c.webhookDone(w, r, v, err, "/webhooks", "")
		return
	}
	if !c.confirmed(w, r, v, "/webhooks", text.T(langOf(r), "webhooks.confirm_delete", ep.URL)) {
		return
	}
	c.webhookDone(w, r, v, c.d.Webhooks.Delete(r.Context(), id, v.name()), "/webhooks", "webhook_deleted")
}

func (c *Console) webhookRedeliver(w http.ResponseWriter, r *http.Request, v *viewer) {
	id, ok := c.webhookEndpoint(w, r, v)
	if !ok {
		return
	}
	did, err := strconv.ParseUint(r.PathValue("delivery"), 10, 64)
	if err != nil || did == 0 {
		c.notFound(w, r, v)
		return
	}
	_, err = c.d.Webhooks.Redeliver(r.Context(), id, did, v.name())
	c.webhookDone(w, r, v, err, "/webhooks?log="+strconv.FormatUint(id, 10), "webhook_redelivered")
}
