package wecom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/silenceper/wechat/v2/work/addresslist"
)

// Directory (通讯录) API paths. The SDK's work/addresslist has these calls
// but they take no context and bypass this package's routing, so the
// calls go through call() and decode into the SDK's response types.
const (
	pathDeptList      = "/cgi-bin/department/list"
	pathUserListID    = "/cgi-bin/user/list_id"
	pathUserGet       = "/cgi-bin/user/get"
	pathUserByMobile  = "/cgi-bin/user/getuserid"
	pathUserByEmail   = "/cgi-bin/user/get_userid_by_email"
	codeUserNotFound  = 46004 // 指定的成员/部门/标签参数不存在
	codeUserNotFound2 = 60111 // userid not found
	// listIDPage is user/list_id's largest page.
	listIDPage = 10000
	// dirAttempts bounds retries of one directory call after a frequency
	// errcode; dirBackoff is the first wait, doubled each time.
	dirAttempts = 5
	dirBackoff  = 200 * time.Millisecond
)

// EmployeeNoAttrs are the extattr names read as the 工号 (WeCom has no
// built-in employee number field); CityAttrs likewise for the city.
var (
	EmployeeNoAttrs = []string{"工号", "员工编号", "员工工号", "employee_no", "Employee No"}
	CityAttrs       = []string{"城市", "工作城市", "city", "City"}
)

// ErrUserNotFound is returned by UserIDByMobile, UserIDByEmail and
// DirectoryMember when WeCom knows no such member.
var ErrUserNotFound = errors.New("wecom: no member with that mobile or e-mail")

// DirectoryDepartment is one department of the corp's directory.
type DirectoryDepartment struct {
	ID       int64
	ParentID int64 // 0 for the root
	Name     string
	Leaders  []string
}

// DirectoryUserRef is one (member, department) pair from user/list_id.
type DirectoryUserRef struct {
	UserID     string
	Department int64
}

// DirectoryMember is one member as user/get reports them.
type DirectoryMember struct {
	UserID         string
	Name           string
	EmployeeNo     string // from the extattr named in EmployeeNoAttrs
	Position       string
	City           string // from the extattr named in CityAttrs
	Mobile         string // empty unless the app may read it
	Email          string // email, else biz_mail
	Departments    []int64
	MainDepartment int64
	DirectLeaders  []string
	// Status: 1 active, 2 disabled, 4 not activated, 5 left the corp.
	Status int
}

// Active reports whether the member is still in the corp and enabled
// (an invited member who has not activated yet counts as active).
func (m DirectoryMember) Active() bool { return m.Status == 1 || m.Status == 4 || m.Status == 0 }

// dirCall is call() that also waits out WeCom's frequency errcodes
// (45009/45011/45033) with doubling backoff, up to dirAttempts.
func (c *Client) dirCall(ctx context.Context, op, method, path string, q url.Values, body any) ([]byte, error) {
	wait := dirBackoff
	for attempt := 1; ; attempt++ {
		raw, err := c.call(ctx, op, method, path, q, body)
		var ae *APIError
		if err == nil || !errors.As(err, &ae) || !frequencyCode(ae.Code) && ae.Code != codeBusy || attempt == dirAttempts {
			return raw, err
		}
		c.log.Info("wecom directory call rate-limited; waiting", "op", op, "errcode", ae.Code, "wait", wait)
		if err := c.sleep(ctx, wait); err != nil {
			return nil, err
		}
		wait *= 2
	}
}

// DirectoryDepartments lists every department the app can see
// (department/list without an id).
func (c *Client) DirectoryDepartments(ctx context.Context) ([]DirectoryDepartment, error) {
	raw, err := c.dirCall(ctx, "department/list", http.MethodGet, pathDeptList, nil, nil)
	if err != nil {
		return nil, err
	}
	var res addresslist.DepartmentListResponse
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, &callError{msg: "wecom: department/list: answer is not a department list"}
	}
	out := make([]DirectoryDepartment, 0, len(res.Department))
	for _, d := range res.Department {
		if d == nil {
			continue
		}
		out = append(out, DirectoryDepartment{ID: int64(d.ID), ParentID: int64(d.ParentID), Name: d.Name, Leaders: d.DepartmentLeader})
	}
	return out, nil
}

// DirectoryUserIDs lists every member the app can see with each of their
// departments, following user/list_id's cursor to the end.
func (c *Client) DirectoryUserIDs(ctx context.Context) ([]DirectoryUserRef, error) {
	var out []DirectoryUserRef
	cursor := ""
	for page := 0; ; page++ {
		if page > 10000 {
			return nil, &callError{msg: "wecom: user/list_id: the cursor never ends"}
		}
		raw, err := c.dirCall(ctx, "user/list_id", http.MethodPost, pathUserListID, nil, addresslist.UserListIDRequest{Cursor: cursor, Limit: listIDPage})
		if err != nil {
			return nil, err
		}
		var res addresslist.UserListIDResponse
		if err := json.Unmarshal(raw, &res); err != nil {
			return nil, &callError{msg: "wecom: user/list_id: answer is not a member list"}
		}
		for _, du := range res.DeptUser {
			if du != nil && du.UserID != "" {
				out = append(out, DirectoryUserRef{UserID: du.UserID, Department: int64(du.Department)})
			}
		}
		if res.NextCursor == "" || res.NextCursor == cursor {
			return out, nil
		}
		cursor = res.NextCursor
	}
}

// DirectoryMember reads one member with user/get.
func (c *Client) DirectoryMember(ctx context.Context, userID string) (DirectoryMember, error) {
	raw, err := c.dirCall(ctx, "user/get", http.MethodGet, pathUserGet, url.Values{"userid": {userID}}, nil)
	var ae *APIError
	if errors.As(err, &ae) && (ae.Code == codeUserNotFound || ae.Code == codeUserNotFound2) {
		return DirectoryMember{}, fmt.Errorf("%w: %w", ErrUserNotFound, err)
	}
	if err != nil {
		return DirectoryMember{}, err
	}
	var res addresslist.UserGetResponse
	if err := json.Unmarshal(raw, &res); err != nil {
		return DirectoryMember{}, &callError{msg: "wecom: user/get: answer is not a member"}
	}
	m := DirectoryMember{UserID: res.UserID, Name: res.Name, Position: res.Position, Mobile: res.Mobile, Email: res.Email,
		MainDepartment: int64(res.MainDepartment), DirectLeaders: res.DirectLeader, Status: res.Status}
	if m.UserID == "" {
		m.UserID = userID
	}
	if m.Email == "" {
		m.Email = res.BizMail
	}
	for _, d := range res.Department {
		m.Departments = append(m.Departments, int64(d))
	}
	for _, a := range res.Extattr.Attrs {
		v := strings.TrimSpace(a.Text.Value)
		switch {
		case v == "":
		case m.EmployeeNo == "" && containsFold(EmployeeNoAttrs, a.Name):
			m.EmployeeNo = v
		case m.City == "" && containsFold(CityAttrs, a.Name):
			m.City = v
		}
	}
	return m, nil
}

func containsFold(list []string, s string) bool {
	s = strings.TrimSpace(s)
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// UserIDByMobile looks a member up by mobile (user/getuserid).
func (c *Client) UserIDByMobile(ctx context.Context, mobile string) (string, error) {
	return c.lookupID(ctx, "user/getuserid", pathUserByMobile, addresslist.GetUseridRequest{Mobile: mobile})
}

// UserIDByEmail looks a member up by e-mail (user/get_userid_by_email;
// email_type 1 is the corp mailbox, 2 a personal one: both are tried).
func (c *Client) UserIDByEmail(ctx context.Context, email string) (string, error) {
	id, err := c.lookupID(ctx, "user/get_userid_by_email", pathUserByEmail, addresslist.GetUseridByEmailRequest{Email: email, EmailType: 1})
	if errors.Is(err, ErrUserNotFound) {
		id, err = c.lookupID(ctx, "user/get_userid_by_email", pathUserByEmail, addresslist.GetUseridByEmailRequest{Email: email, EmailType: 2})
	}
	return id, err
}

func (c *Client) lookupID(ctx context.Context, op, path string, body any) (string, error) {
	raw, err := c.dirCall(ctx, op, http.MethodPost, path, nil, body)
	var ae *APIError
	if errors.As(err, &ae) && (ae.Code == codeUserNotFound || ae.Code == codeUserNotFound2) {
		return "", ErrUserNotFound
	}
	if err != nil {
		return "", err
	}
	var res addresslist.GetUseridResponse
	if err := json.Unmarshal(raw, &res); err != nil || res.Userid == "" {
		return "", ErrUserNotFound
	}
	return res.Userid, nil
}

// FormatDeptID is how a WeCom department id is written as text.
func FormatDeptID(id int64) string { return strconv.FormatInt(id, 10) }
