package console

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/learnloop/learnloop/bot"
	"github.com/learnloop/learnloop/digests"
	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/text"
)

// DigestAdmin manages digest subscriptions (digests.Service); the API and
// the CLI call the same methods.
type DigestAdmin interface {
	List(ctx context.Context, a digests.Actor, offset, limit int) ([]digests.Subscription, error)
	Get(ctx context.Context, id uint64, a digests.Actor) (digests.Subscription, error)
	Create(ctx context.Context, in digests.Input, a digests.Actor) (digests.Subscription, error)
	Delete(ctx context.Context, id uint64, a digests.Actor) error
	SendTest(ctx context.Context, id uint64, a digests.Actor) (uint64, error)
	Preview(ctx context.Context, id uint64, a digests.Actor) (*reports.DigestReport, error)
	EnabledPlatforms() []bot.Platform
}

type digestsData struct {
	Subs      []digests.Subscription
	Platforms []bot.Platform
	// Preview is the card of the subscription chosen with ?preview=ID.
	PreviewOf *digests.Subscription
	Preview   *bot.Message
	Loc       *time.Location
}

func digestActor(v *viewer) digests.Actor {
	return digests.Actor{Username: v.Account.Username, Role: v.Account.Role}
}

// digestsPage lists the viewer's digest subscriptions (an admin's: all),
// the form to subscribe and, with ?preview=ID, that digest's card as it
// would be sent now.
func (c *Console) digestsPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	if c.d.Digests == nil {
		c.notFound(w, r, v)
		return
	}
	p := c.newPage(r, v, "digests.title")
	p.Form.Set("frequency", "weekly")
	c.renderDigests(w, r, v, p, http.StatusOK)
}

func (c *Console) renderDigests(w http.ResponseWriter, r *http.Request, v *viewer, p *page, code int) {
	p.Nav = "digests"
	subs, err := c.d.Digests.List(r.Context(), digestActor(v), 0, 1000)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	d := digestsData{Subs: subs, Platforms: c.d.Digests.EnabledPlatforms(), Loc: c.d.Location}
	if s := r.URL.Query().Get("preview"); s != "" {
		id, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			c.notFound(w, r, v)
			return
		}
		sub, err := c.d.Digests.Get(r.Context(), id, digestActor(v))
		if !c.loaded(w, r, v, err) {
			return
		}
		rep, err := c.d.Digests.Preview(r.Context(), id, digestActor(v))
		if err != nil {
			c.internal(w, r, v, err)
			return
		}
		zone, err := time.LoadLocation(sub.TimeZone)
		if err != nil {
			zone = c.d.Location
		}
		m := digests.Card(rep, digests.CardInput{Locale: text.Parse(firstOf(sub.Locale, string(p.Lang))), Zone: zone, Frequency: sub.Frequency,
			ConsoleURL: c.path("/")})
		d.PreviewOf, d.Preview = &sub, &m
	}
	p.Data = d
	c.render(w, r, code, "digests", p)
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// digestFieldKeys are the messages of the service's invalid fields, by
// field and code.
var digestFieldKeys = errorKeys{
	"account/" + digests.CodeRequired: "digests.err_account", "account/" + digests.CodeNotFound: "digests.err_account",
	"account/" + digests.CodeForbidden: "digests.err_account_own",
	"employee/" + digests.CodeRequired: "digests.err_employee_required", "employee/" + digests.CodeNotFound: "digests.err_employee",
	"frequency/" + digests.CodeRequired: "digests.err_frequency", "frequency/" + digests.CodeBadValue: "digests.err_frequency",
	"cron/" + digests.CodeRequired: "digests.err_cron", "cron/" + digests.CodeBadValue: "digests.err_cron",
	"time_zone/" + digests.CodeBadValue: "digests.err_zone",
	"platform/" + digests.CodeBadValue:  "digests.err_platform", "platform/" + digests.CodeNoUserID: "digests.err_no_user_id",
	"locale/" + digests.CodeBadValue:     "digests.err_locale",
	"frequency/" + digests.CodeDuplicate: "digests.err_duplicate",
}

func (c *Console) digestCreate(w http.ResponseWriter, r *http.Request, v *viewer) {
	if c.d.Digests == nil {
		c.notFound(w, r, v)
		return
	}
	p := c.newPage(r, v, "digests.title")
	f := r.PostForm
	in := digests.Input{Employee: f.Get("employee"), Frequency: f.Get("frequency"), Cron: f.Get("cron"),
		TimeZone: f.Get("time_zone"), Platform: f.Get("platform")}
	if v.admin() {
		in.Account = strings.TrimSpace(f.Get("account"))
	}
	_, err := c.d.Digests.Create(r.Context(), in, digestActor(v))
	if p.fieldErrors(err, digestFieldKeys) {
		c.renderDigests(w, r, v, p, http.StatusUnprocessableEntity)
		return
	}
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	c.redirectOK(w, r, "/digests", "digest_created")
}

// digestOf reads the {id} of a POST.
func (c *Console) digestOf(w http.ResponseWriter, r *http.Request, v *viewer) (digests.Subscription, bool) {
	if c.d.Digests == nil {
		c.notFound(w, r, v)
		return digests.Subscription{}, false
	}
	return loadPath(c, w, r, v, func(ctx context.Context, id uint64) (digests.Subscription, error) {
		return c.d.Digests.Get(ctx, id, digestActor(v))
	})
}

func (c *Console) digestSendTest(w http.ResponseWriter, r *http.Request, v *viewer) {
	sub, ok := c.digestOf(w, r, v)
	if !ok {
		return
	}
	if _, err := c.d.Digests.SendTest(r.Context(), sub.ID, digestActor(v)); err != nil {
		c.internal(w, r, v, err)
		return
	}
	c.redirectOK(w, r, "/digests", "digest_sent")
}

func (c *Console) digestDelete(w http.ResponseWriter, r *http.Request, v *viewer) {
	sub, ok := c.digestOf(w, r, v)
	if !ok {
		return
	}
	if !c.confirmed(w, r, v, "/digests", text.T(langOf(r), "digests.confirm_delete", sub.Account)) {
		return
	}
	if err := c.d.Digests.Delete(r.Context(), sub.ID, digestActor(v)); err != nil {
		if errors.Is(err, digests.ErrNotFound) {
			c.notFound(w, r, v)
			return
		}
		c.internal(w, r, v, err)
		return
	}
	c.redirectOK(w, r, "/digests", "digest_deleted")
}
