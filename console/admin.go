package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/learnloop/learnloop/command"
	"github.com/learnloop/learnloop/console/accounts"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/text"
)

// ---- accounts (admins only) ----

type accountsData struct {
	Accounts *Table
	List     []store.Account
	Loc      *time.Location
}

func (c *Console) accountsTable(r *http.Request, lang text.Locale) (*Table, []store.Account, error) {
	as, err := c.d.Accounts.List(r.Context())
	if err != nil {
		return nil, nil, err
	}
	t := &Table{Key: "accounts", Title: text.T(lang, "table.accounts"),
		Columns: []string{text.T(lang, "col.username"), text.T(lang, "col.display_name"), text.T(lang, "col.role"), text.T(lang, "col.department"), text.T(lang, "col.disabled"), text.T(lang, "col.last_login")}}
	for _, a := range as {
		t.Rows = append(t.Rows, []Cell{{V: a.Username, Href: c.path(fmt.Sprintf("/accounts/%d/edit", a.ID))}, C(a.DisplayName),
			{V: a.Role, Label: text.Enum(lang, "role", a.Role)}, C(a.Department), C(a.Disabled), C(a.LastLoginAt)})
	}
	return t, as, nil
}

func (c *Console) accountsPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	p, ok := c.adminPage(w, r, v, "accounts.title", "accounts")
	if !ok {
		return
	}
	p.Form = url.Values{"role": {store.RoleCoordinator}}
	c.renderAccounts(w, r, v, p, http.StatusOK)
}

func (c *Console) renderAccounts(w http.ResponseWriter, r *http.Request, v *viewer, p *page, code int) {
	t, as, err := c.accountsTable(r, p.Lang)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	if c.exportTable(w, r, v, c.d.Location, "accounts", t) {
		return
	}
	p.Data = accountsData{Accounts: t, List: as, Loc: c.d.Location}
	c.render(w, r, code, "accounts", p)
}

// accountMessage maps a CreateAccount error to a field and message key.
func accountMessage(err error) (string, string) {
	msg := err.Error()
	switch {
	case errors.Is(err, accounts.ErrAccountExists):
		return "username", "account.err_exists"
	case strings.Contains(msg, "username"):
		return "username", "account.err_username"
	case strings.Contains(msg, "role"):
		return "role", "account.err_role"
	case strings.Contains(msg, "department"):
		return "department", "account.err_department"
	case strings.Contains(msg, "password"):
		return "password", "account.password_policy"
	}
	return "", "account.err_invalid"
}

func (c *Console) accountCreate(w http.ResponseWriter, r *http.Request, v *viewer) {
	p, ok := c.adminPage(w, r, v, "accounts.title", "accounts")
	if !ok {
		return
	}
	f := r.PostForm
	if f.Get("password") != f.Get("again") {
		p.fieldError("again", "password.mismatch")
		c.renderAccounts(w, r, v, p, http.StatusUnprocessableEntity)
		return
	}
	_, err := c.d.Accounts.Create(r.Context(), accounts.NewAccount{
		Username: strings.ToLower(strings.TrimSpace(f.Get("username"))), DisplayName: f.Get("display_name"),
		Role: f.Get("role"), Department: f.Get("department"), Password: f.Get("password"),
	}, v.name())
	if errors.Is(err, accounts.ErrInvalidAccount) || errors.Is(err, accounts.ErrAccountExists) {
		field, key := accountMessage(err)
		if key == "account.password_policy" {
			p.fieldErrorf(field, key, accounts.MinPasswordLength)
		} else {
			p.fieldError(field, key)
		}
		c.renderAccounts(w, r, v, p, http.StatusUnprocessableEntity)
		return
	}
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	c.redirectOK(w, r, "/accounts", "account_created")
}

type accountFormData struct {
	Target store.Account
	Self   bool
}

func (c *Console) loadAccount(w http.ResponseWriter, r *http.Request, v *viewer) (store.Account, bool) {
	var a store.Account
	if !v.admin() {
		c.forbidden(w, r, v)
		return a, false
	}
	return loadPath(c, w, r, v, c.d.Accounts.Get)
}

func (c *Console) accountEditPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	a, ok := c.loadAccount(w, r, v)
	if !ok {
		return
	}
	p := c.newPage(r, v, "account.edit")
	p.Nav = "accounts"
	p.Form = url.Values{"display_name": {a.DisplayName}, "role": {a.Role}, "department": {a.Department}}
	if a.Disabled {
		p.Form.Set("disabled", "1")
	}
	p.Data = accountFormData{Target: a, Self: a.ID == v.Account.ID}
	c.render(w, r, http.StatusOK, "account_form", p)
}

func (c *Console) accountUpdate(w http.ResponseWriter, r *http.Request, v *viewer) {
	a, ok := c.loadAccount(w, r, v)
	if !ok {
		return
	}
	p := c.newPage(r, v, "account.edit")
	p.Nav = "accounts"
	f := r.PostForm
	self := a.ID == v.Account.ID
	role := f.Get("role")
	dept := strings.TrimSpace(f.Get("department"))
	name := strings.TrimSpace(f.Get("display_name"))
	disabled := f.Get("disabled") == "1"
	if !accounts.ValidRole(role) {
		p.fieldError("role", "account.err_role")
	}
	if role == store.RoleDepartmentHead && dept == "" {
		p.fieldError("department", "account.err_department")
	}
	if utf8.RuneCountInString(dept) > 128 {
		p.fieldError("department", "account.err_long")
	}
	if utf8.RuneCountInString(name) > 128 {
		p.fieldError("display_name", "account.err_long")
	}
	if self && (role != store.RoleAdmin || disabled) {
		p.fieldError("role", "account.err_self")
	}
	var hash string
	if pw := f.Get("password"); pw != "" {
		if f.Get("again") != pw {
			p.fieldError("again", "password.mismatch")
		} else if h, err := accounts.HashPassword(pw); err != nil {
			p.fieldErrorf("password", "account.password_policy", accounts.MinPasswordLength)
		} else {
			hash = h
		}
	}
	if p.hasErrors() {
		p.Data = accountFormData{Target: a, Self: self}
		c.render(w, r, http.StatusUnprocessableEntity, "account_form", p)
		return
	}
	var keep uint64
	if self {
		keep = v.Session.ID
	}
	ch := accounts.Change{DisplayName: name, Role: role, Department: dept, Disabled: disabled, PasswordHash: hash}
	if err := c.d.Accounts.Update(r.Context(), a, ch, v.name(), keep); err != nil {
		c.internal(w, r, v, err)
		return
	}
	c.redirectOK(w, r, "/accounts", "account_saved")
}

// ---- audit log (admins only) ----

type auditData struct {
	Table *Table
	Newer string
	Older string
	Loc   *time.Location
}

const auditPageSize = 100

func (c *Console) auditPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	p, ok := c.adminPage(w, r, v, "audit.title", "audit")
	if !ok {
		return
	}
	q := r.URL.Query()
	p.Form = url.Values{"actor": {q.Get("actor")}, "action": {q.Get("action")}, "object": {q.Get("object")}}
	page, _ := strconv.Atoi(q.Get("page"))
	if page < 1 {
		page = 1
	}
	aq := command.AuditQuery{Actor: strings.TrimSpace(q.Get("actor")), ActionPrefix: strings.TrimSpace(q.Get("action")), Object: strings.TrimSpace(q.Get("object"))}
	pg := command.Page{Limit: auditPageSize, Offset: (page - 1) * auditPageSize}
	export := q.Get("export") != ""
	if export {
		pg = command.Page{Limit: 100000 - 1}
	}
	logs, err := c.commands().AuditLog(r.Context(), v.actor(), aq, pg)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	d := auditData{Loc: c.d.Location}
	pageURL := func(n int) string {
		u := url.Values{}
		for _, k := range []string{"actor", "action", "object"} {
			if x := q.Get(k); x != "" {
				u.Set(k, x)
			}
		}
		u.Set("page", strconv.Itoa(n))
		return c.path("/audit") + "?" + u.Encode()
	}
	if !export && len(logs) > auditPageSize {
		d.Older = pageURL(page + 1)
		logs = logs[:auditPageSize]
	}
	if page > 1 {
		d.Newer = pageURL(page - 1)
	}
	lang := p.Lang
	zones, err := c.auditZones(r, logs)
	if err != nil {
		c.internal(w, r, v, err)
		return
	}
	t := &Table{Key: "audit", Title: text.T(lang, "table.audit"), Empty: text.T(lang, "audit.empty"),
		Columns: []string{text.T(lang, "col.at"), text.T(lang, "col.actor"), text.T(lang, "col.action"), text.T(lang, "col.object"), text.T(lang, "col.detail")}}
	for _, l := range logs {
		obj := Cell{V: l.Object}
		if kind, id, ok := strings.Cut(l.Object, ":"); ok {
			switch kind {
			case "session":
				obj.Href = c.path("/sessions/" + id)
			case "course":
				obj.Href = c.path("/courses/" + id)
			case "touchpoint":
				obj.Href = c.path("/touchpoints/" + id + "/edit")
			}
		}
		t.Rows = append(t.Rows, []Cell{C(l.CreatedAt), C(l.Actor), {V: l.Action, Label: actionLabel(lang, l.Action)}, obj, {V: l.Detail, Label: auditDetail(lang, l.Detail, zones[l.Object]), Class: "audit-detail"}})
	}
	d.Table = t
	if c.exportTable(w, r, v, c.d.Location, "audit", t) {
		return
	}
	p.Data = d
	c.render(w, r, http.StatusOK, "audit", p)
}

func actionLabel(lang text.Locale, action string) string {
	if k := "action." + action; text.Has(k) {
		return text.T(lang, k) + " (" + action + ")"
	}
	return action
}
