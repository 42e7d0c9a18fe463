package feishu

import (
	"context"
	"errors"
	"strings"
	"time"

	larkcore "github.com/larksuite/oapi-sdk-go/v3/core"
	larkcontact "github.com/larksuite/oapi-sdk-go/v3/service/contact/v3"

	"github.com/learnloop/learnloop/adapters/kit"
)

// Directory (contact v3) paging and retry bounds.
const (
	deptPageSize = 50 // departments/:id/children allows at most 50
	userPageSize = 50 // users/find_by_department allows at most 50
	// batchGetIDMax is how many mobiles (and e-mails) one
	// users/batch_get_id call takes.
	batchGetIDMax = 50
	dirAttempts   = 5
	dirBackoff    = 200 * time.Millisecond
	// deptIDType: departments are named by open_department_id, which every
	// department has (the custom department_id is optional).
	deptIDType = "open_department_id"
	// RootDepartment is the tenant's root department id.
	RootDepartment = "0"
)

// DirectoryDepartment is one department of the tenant's directory.
type DirectoryDepartment struct {
	ID       string // open_department_id
	ParentID string // "0" under the root
	Name     string
	Deleted  bool
}

// DirectoryMember is one user of a department.
type DirectoryMember struct {
	// ID is the user's id of the configured receive id type (what a
	// delivery is addressed to). ManagerID is their leader's RawID: the
	// id of the type directory calls read (ID differs only with e-mail
	// addressing, where ID is the e-mail).
	ID          string
	RawID       string
	Name        string
	EmployeeNo  string
	JobTitle    string
	City        string
	Mobile      string
	Email       string // email, else enterprise_email
	Departments []string
	ManagerID   string
	Resigned    bool
	Frozen      bool
}

// directoryIDType is the user id type directory calls ask for: the
// receive id type, except that e-mail addressing reads user_id (leaders
// are given by id) and maps it to e-mail afterwards.
func (c *Client) directoryIDType() string {
	if c.cfg.ReceiveIDType == IDTypeEmail || c.cfg.ReceiveIDType == "" {
		return IDTypeUserID
	}
	return c.cfg.ReceiveIDType
}

// dirCall is call() that waits out rate limits (HTTP 429, 99991400) and
// 5xx answers with doubling backoff, up to dirAttempts.
func (c *Client) dirCall(ctx context.Context, op string, fn apiCall) error {
	wait := dirBackoff
	for attempt := 1; ; attempt++ {
		err := c.call(ctx, op, "", fn)
		var ae *APIError
		if err == nil || !errors.As(err, &ae) || attempt == dirAttempts {
			return err
		}
		c.log.Info("feishu directory call refused for now; waiting", "op", op, "code", ae.Code, "status", ae.Status, "wait", wait)
		if err := kit.Sleep(ctx, wait); err != nil {
			return err
		}
		wait *= 2
	}
}

// maxDirPages bounds how many pages one directory listing follows.
const maxDirPages = 100000

// dirPages calls page with each page token in turn ("" for the first page)
// and follows the token its answer gives until there is no more, or the
// token is empty or repeats. page returns has_more and page_token.
func dirPages(what string, page func(token string) (more *bool, next *string, err error)) error {
	token := ""
	for n := 0; ; n++ {
		if n > maxDirPages {
			return errors.New("feishu: " + what + ": the page token never ends")
		}
		more, next, err := page(token)
		if err != nil || more == nil || !*more || str(next) == "" || str(next) == token {
			return err
		}
		token = str(next)
	}
}

// DirectoryDepartments lists every department under the root the app can
// see (departments/0/children with fetch_child), following page tokens.
func (c *Client) DirectoryDepartments(ctx context.Context) ([]DirectoryDepartment, error) {
	var out []DirectoryDepartment
	err := dirPages("departments", func(token string) (*bool, *string, error) {
		var data *larkcontact.ChildrenDepartmentRespData
		err := c.dirCall(ctx, "list departments", func(ctx context.Context, opt larkcore.RequestOptionFunc) (*larkcore.ApiResp, larkcore.CodeError, error) {
			b := larkcontact.NewChildrenDepartmentReqBuilder().DepartmentId(RootDepartment).DepartmentIdType(deptIDType).
				UserIdType(c.directoryIDType()).FetchChild(true).PageSize(deptPageSize)
			if token != "" {
				b = b.PageToken(token)
			}
			resp, err := c.sdk.Contact.V3.Department.Children(ctx, b.Build(), opt)
			if err != nil {
				return nil, larkcore.CodeError{}, err
			}
			data = resp.Data
			return resp.ApiResp, resp.CodeError, nil
		})
		if err != nil || data == nil {
			return nil, nil, err
		}
		for _, d := range data.Items {
			if d == nil {
				continue
			}
			dd := DirectoryDepartment{ID: str(d.OpenDepartmentId), ParentID: str(d.ParentDepartmentId), Name: str(d.Name)}
			if dd.ID == "" {
				dd.ID = str(d.DepartmentId)
			}
			if d.Status != nil && d.Status.IsDeleted != nil {
				dd.Deleted = *d.Status.IsDeleted
			}
			if dd.ID != "" {
				out = append(out, dd)
			}
		}
		return data.HasMore, data.PageToken, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DepartmentMembers lists the users directly in department deptID
// (users/find_by_department), following page tokens.
func (c *Client) DepartmentMembers(ctx context.Context, deptID string) ([]DirectoryMember, error) {
	var out []DirectoryMember
	err := dirPages("find_by_department", func(token string) (*bool, *string, error) {
		var data *larkcontact.FindByDepartmentUserRespData
		err := c.dirCall(ctx, "list department members", func(ctx context.Context, opt larkcore.RequestOptionFunc) (*larkcore.ApiResp, larkcore.CodeError, error) {
			b := larkcontact.NewFindByDepartmentUserReqBuilder().DepartmentId(deptID).DepartmentIdType(deptIDType).
				UserIdType(c.directoryIDType()).PageSize(userPageSize)
			if token != "" {
				b = b.PageToken(token)
			}
			resp, err := c.sdk.Contact.V3.User.FindByDepartment(ctx, b.Build(), opt)
			if err != nil {
				return nil, larkcore.CodeError{}, err
			}
			data = resp.Data
			return resp.ApiResp, resp.CodeError, nil
		})
		if err != nil || data == nil {
			return nil, nil, err
		}
		for _, u := range data.Items {
			if u != nil {
				out = append(out, c.memberOf(u))
			}
		}
		return data.HasMore, data.PageToken, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// memberOf is a user as a DirectoryMember.
func (c *Client) memberOf(u *larkcontact.User) DirectoryMember {
	m := DirectoryMember{ID: c.userIDOf(u), RawID: c.userIDOf(u), Name: str(u.Name), EmployeeNo: str(u.EmployeeNo), JobTitle: str(u.JobTitle),
		City: str(u.City), Mobile: str(u.Mobile), Email: str(u.Email), Departments: u.DepartmentIds, ManagerID: str(u.LeaderUserId)}
	if m.Email == "" {
		m.Email = str(u.EnterpriseEmail)
	}
	if c.cfg.ReceiveIDType == IDTypeEmail {
		m.ID = m.Email
	}
	if u.Status != nil {
		m.Resigned = (u.Status.IsResigned != nil && *u.Status.IsResigned) || (u.Status.IsExited != nil && *u.Status.IsExited)
		m.Frozen = u.Status.IsFrozen != nil && *u.Status.IsFrozen
	}
	return m
}

func (c *Client) userIDOf(u *larkcontact.User) string {
	switch c.directoryIDType() {
	case IDTypeOpenID:
		return str(u.OpenId)
	case IDTypeUnionID:
		return str(u.UnionId)
	}
	return str(u.UserId)
}

// BatchGetIDs looks users up by mobile and e-mail
// (contact/v3/users/batch_get_id, at most 50 of each per call) and
// returns, per given mobile or e-mail, the user's id of the configured
// receive id type (with e-mail addressing: the e-mail itself). Unknown
// ones are left out.
func (c *Client) BatchGetIDs(ctx context.Context, mobiles, emails []string) (map[string]string, error) {
	out := map[string]string{}
	for len(mobiles) > 0 || len(emails) > 0 {
		ms := mobiles[:min(batchGetIDMax, len(mobiles))]
		es := emails[:min(batchGetIDMax, len(emails))]
		mobiles, emails = mobiles[len(ms):], emails[len(es):]
		var data *larkcontact.BatchGetIdUserRespData
		err := c.dirCall(ctx, "batch get user ids", func(ctx context.Context, opt larkcore.RequestOptionFunc) (*larkcore.ApiResp, larkcore.CodeError, error) {
			body := larkcontact.NewBatchGetIdUserReqBodyBuilder().IncludeResigned(false)
			if len(ms) > 0 {
				body = body.Mobiles(ms)
			}
			if len(es) > 0 {
				body = body.Emails(es)
			}
			req := larkcontact.NewBatchGetIdUserReqBuilder().UserIdType(c.directoryIDType()).Body(body.Build()).Build()
			resp, err := c.sdk.Contact.V3.User.BatchGetId(ctx, req, opt)
			if err != nil {
				return nil, larkcore.CodeError{}, err
			}
			data = resp.Data
			return resp.ApiResp, resp.CodeError, nil
		})
		if err != nil {
			return nil, err
		}
		if data == nil {
			continue
		}
		for _, u := range data.UserList {
			if u == nil || str(u.UserId) == "" {
				continue
			}
			id := str(u.UserId)
			if c.cfg.ReceiveIDType == IDTypeEmail {
				id = str(u.Email)
			}
			if id == "" {
				continue
			}
			if m := str(u.Mobile); m != "" {
				out[m] = id
			}
			if e := str(u.Email); e != "" {
				out[strings.ToLower(e)] = id
			}
		}
	}
	return out, nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
