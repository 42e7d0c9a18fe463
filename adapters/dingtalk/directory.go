package dingtalk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/learnloop/learnloop/adapters/kit"
)

// Directory (通讯录) calls on the legacy host. The alibabacloud SDK has no
// department/user listing for internal apps, so these are oapi calls.
const (
	pathDeptListSub   = "/topapi/v2/department/listsub"
	pathUserList      = "/topapi/v2/user/list"
	pathUserGet       = "/topapi/v2/user/get"
	pathDeptGet       = "/topapi/v2/department/get"
	codeNoSuchDept    = "60003" // 部门不存在
	codeNoSuchDept2   = "60123" // 无效的部门id
	pathUserByMobile  = "/topapi/v2/user/getbymobile"
	codeNoSuchUser    = "60121" // 找不到该用户
	codeNoSuchUser2   = "33012" // 无效的userid / mobile
	userListPageSize  = 100     // topapi/v2/user/list allows at most 100
	dirAttempts       = 5
	dirBackoff        = 200 * time.Millisecond
	rootDepartment    = 1
	maxDepartmentTree = 100000
)

// ErrUserNotFound is returned by UserIDByMobile and DirectoryUser when
// DingTalk knows no such member.
var ErrUserNotFound = errors.New("dingtalk: no such member")

// ErrDeptNotFound is returned by DirectoryDepartment when DingTalk knows no
// such department.
var ErrDeptNotFound = errors.New("dingtalk: no such department")

// DirectoryDepartment is one department of the organisation.
type DirectoryDepartment struct {
	ID       int64
	ParentID int64 // 0 for the root (id 1)
	Name     string
}

// DirectoryMember is one member of a department (topapi/v2/user/list).
type DirectoryMember struct {
	UserID     string  `json:"userid"`
	Name       string  `json:"name"`
	JobNumber  string  `json:"job_number"`
	Title      string  `json:"title"`
	WorkPlace  string  `json:"work_place"`
	Mobile     string  `json:"mobile"`
	Email      string  `json:"email"`
	OrgEmail   string  `json:"org_email"`
	DeptIDList []int64 `json:"dept_id_list"`
	Active     bool    `json:"active"`
	ManagerID  string  `json:"manager_userid"`
	// UnionID names the member in the calendar API (user/get gives it).
	UnionID string `json:"unionid"`
}

// dirDo is oapiDo with a legacy token that also waits out quota and
// transient answers with doubling backoff, up to dirAttempts.
func (c *Client) dirDo(ctx context.Context, path string, body any, out any, status func() (oapiStatus, oapiSub)) error {
	op := path[len("/topapi/v2/"):]
	wait := dirBackoff
	for attempt := 1; ; attempt++ {
		err := c.withOAPIToken(ctx, func(tok string) error {
			if err := c.oapiDo(ctx, http.MethodPost, path, url.Values{"access_token": {tok}}, body, out); err != nil {
				return err
			}
			st, sub := status()
			return c.statusErrSub(op, st, sub)
		})
		var ae *APIError
		if err == nil || !errors.As(err, &ae) || ae.kind == kindPermanent || ae.kind == kindAuth || attempt == dirAttempts {
			return err
		}
		c.log.Info("dingtalk directory call refused for now; waiting", "op", op, "code", ae.Code, "wait", wait)
		if err := kit.Sleep(ctx, wait); err != nil {
			return err
		}
		wait *= 2
	}
}

// DirectoryDepartments walks the department tree from the root with
// topapi/v2/department/listsub (one call per department).
func (c *Client) DirectoryDepartments(ctx context.Context) ([]DirectoryDepartment, error) {
	out := []DirectoryDepartment{{ID: rootDepartment, Name: ""}}
	seen := map[int64]bool{rootDepartment: true}
	queue := []int64{rootDepartment}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		subs, err := c.subDepartments(ctx, id)
		if err != nil {
			return nil, err
		}
		for _, d := range subs {
			if seen[d.ID] {
				continue
			}
			seen[d.ID] = true
			out = append(out, d)
			queue = append(queue, d.ID)
			if len(out) > maxDepartmentTree {
				return nil, errors.New("dingtalk: department tree larger than 100,000")
			}
		}
	}
	return out, nil
}

func (c *Client) subDepartments(ctx context.Context, id int64) ([]DirectoryDepartment, error) {
	var res struct {
		oapiStatus
		oapiSub
		Result []struct {
			DeptID   int64  `json:"dept_id"`
			Name     string `json:"name"`
			ParentID int64  `json:"parent_id"`
		} `json:"result"`
	}
	err := c.dirDo(ctx, pathDeptListSub, map[string]any{"dept_id": id, "language": "zh_CN"}, &res, func() (oapiStatus, oapiSub) { return res.oapiStatus, res.oapiSub })
	if err != nil {
		return nil, err
	}
	out := make([]DirectoryDepartment, 0, len(res.Result))
	for _, d := range res.Result {
		p := d.ParentID
		if p == 0 {
			p = id
		}
		out = append(out, DirectoryDepartment{ID: d.DeptID, ParentID: p, Name: d.Name})
	}
	return out, nil
}

// DepartmentMembers lists the members directly in department deptID,
// following topapi/v2/user/list's cursor. The list may leave
// manager_userid out: UserManager reads it.
func (c *Client) DepartmentMembers(ctx context.Context, deptID int64) ([]DirectoryMember, error) {
	var out []DirectoryMember
	cursor := int64(0)
	for page := 0; ; page++ {
		if page > 100000 {
			return nil, errors.New("dingtalk: user/list: the cursor never ends")
		}
		var res struct {
			oapiStatus
			oapiSub
			Result struct {
				HasMore    bool              `json:"has_more"`
				NextCursor json.Number       `json:"next_cursor"`
				List       []DirectoryMember `json:"list"`
			} `json:"result"`
		}
		body := map[string]any{"dept_id": deptID, "cursor": cursor, "size": userListPageSize, "contain_access_limit": false, "language": "zh_CN"}
		if err := c.dirDo(ctx, pathUserList, body, &res, func() (oapiStatus, oapiSub) { return res.oapiStatus, res.oapiSub }); err != nil {
			return nil, err
		}
		out = append(out, res.Result.List...)
		if !res.Result.HasMore {
			return out, nil
		}
		next, err := strconv.ParseInt(res.Result.NextCursor.String(), 10, 64)
		if err != nil || next == cursor {
			return out, nil
		}
		cursor = next
	}
}

// UserManager reads a member's direct manager (topapi/v2/user/get);
// empty when they have none.
func (c *Client) UserManager(ctx context.Context, userID string) (string, error) {
	m, err := c.DirectoryUser(ctx, userID)
	return m.ManagerID, err
}

// DirectoryUser reads one member (topapi/v2/user/get); ErrUserNotFound
// when DingTalk no longer has them.
func (c *Client) DirectoryUser(ctx context.Context, userID string) (DirectoryMember, error) {
	var res struct {
		oapiStatus
		oapiSub
		Result DirectoryMember `json:"result"`
	}
	err := c.dirDo(ctx, pathUserGet, map[string]any{"userid": userID, "language": "zh_CN"}, &res, func() (oapiStatus, oapiSub) { return res.oapiStatus, res.oapiSub })
	if err := notFoundAs(err, ErrUserNotFound, codeNoSuchUser, codeNoSuchUser2); err != nil {
		return DirectoryMember{}, err
	}
	if res.Result.UserID == "" {
		res.Result.UserID = userID
	}
	return res.Result, nil
}

// DirectoryDepartment reads one department (topapi/v2/department/get);
// ErrDeptNotFound when DingTalk no longer has it.
func (c *Client) DirectoryDepartment(ctx context.Context, id int64) (DirectoryDepartment, error) {
	var res struct {
		oapiStatus
		oapiSub
		Result struct {
			DeptID   int64  `json:"dept_id"`
			Name     string `json:"name"`
			ParentID int64  `json:"parent_id"`
		} `json:"result"`
	}
	err := c.dirDo(ctx, pathDeptGet, map[string]any{"dept_id": id, "language": "zh_CN"}, &res, func() (oapiStatus, oapiSub) { return res.oapiStatus, res.oapiSub })
	if err := notFoundAs(err, ErrDeptNotFound, codeNoSuchDept, codeNoSuchDept2); err != nil {
		return DirectoryDepartment{}, err
	}
	d := DirectoryDepartment{ID: id, ParentID: res.Result.ParentID, Name: res.Result.Name}
	if id == rootDepartment {
		d.ParentID = 0
	}
	return d, nil
}

// notFoundAs is err, marked as notFound (errors.Is) when DingTalk answered
// one of codes.
func notFoundAs(err, notFound error, codes ...string) error {
	var ae *APIError
	if errors.As(err, &ae) && slices.Contains(codes, ae.Code) {
		return fmt.Errorf("%w: %w", notFound, err)
	}
	return err
}

// UserIDByMobile looks a member up by mobile (topapi/v2/user/getbymobile).
func (c *Client) UserIDByMobile(ctx context.Context, mobile string) (string, error) {
	var res struct {
		oapiStatus
		oapiSub
		Result struct {
			UserID string `json:"userid"`
		} `json:"result"`
	}
	err := c.dirDo(ctx, pathUserByMobile, map[string]any{"mobile": mobile}, &res, func() (oapiStatus, oapiSub) { return res.oapiStatus, res.oapiSub })
	if err := notFoundAs(err, ErrUserNotFound, codeNoSuchUser, codeNoSuchUser2); err != nil {
		return "", err
	}
	if res.Result.UserID == "" {
		return "", ErrUserNotFound
	}
	return res.Result.UserID, nil
}
