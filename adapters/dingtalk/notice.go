package dingtalk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/learnloop/learnloop/adapters/kit"
	"github.com/learnloop/learnloop/bot"
)

// MaxNoticeBytes is the largest work-notification msg DingTalk accepts.
const MaxNoticeBytes = 2048

// Work-notification flow-control codes reported by getsendresult.
const (
	CodeDailyLimit = "143105" // more than 500 notifications to one user today
	CodeDuplicate  = "143106" // the same content to the same user today
)

// quotaRetryCodes in getsendresult's forbidden_list mean "too fast, retry
// later" (143103: the app's per-minute quota, 143104: the organisation's):
// the recipient did not get the notification but may on a later attempt.
var quotaRetryCodes = []string{"143103", "143104"}

type noticeMsg struct {
	MsgType    string       `json:"msgtype"`
	ActionCard *actionCard  `json:"action_card,omitempty"`
	Markdown   *markdownMsg `json:"markdown,omitempty"`
}

type actionCard struct {
	Title          string      `json:"title"`
	Markdown       string      `json:"markdown"`
	BtnOrientation string      `json:"btn_orientation"`
	BtnJSONList    []actionBtn `json:"btn_json_list"`
}

type actionBtn struct {
	Title     string `json:"title"`
	ActionURL string `json:"action_url"`
}

type markdownMsg struct {
	Title string `json:"title"`
	Text  string `json:"text"`
}

// deliveryKeyRE matches bot.DeliveryKey ("ll-<touchpoint>-<occurrence>-<employee>").
var deliveryKeyRE = regexp.MustCompile(`^(ll-\d+-[0-9A-Za-z_]+)-\d+$`)

// contentRef is the reference printed in every work notification so that
// no two sends of different touchpoints or occurrences have the same
// content (DingTalk drops a repeat of the same content to the same user
// within a day). Recipients of one occurrence share it, so identical
// notifications can still go out in one call; a redelivery of the same
// delivery keeps it, so DingTalk's own dedup drops the copy.
func contentRef(key string) string {
	if m := deliveryKeyRE.FindStringSubmatch(key); m != nil {
		return m[1]
	}
	return key
}

// composeNotice renders m as an action card (or markdown when it has no
// buttons) whose check-in button opens the signed /c/ page.
func (c *Client) composeNotice(m bot.Message) ([]byte, error) {
	var btns []actionBtn
	for _, b := range m.Buttons {
		switch b.Action {
		case bot.ActionCheckin:
			u := c.checkinURL(m.Fallback)
			if u == "" {
				return nil, bot.Permanent("no_checkin_link", "message has a check-in button but no /c/ check-in link in its fallback", nil)
			}
			btns = append(btns, actionBtn{Title: b.Text, ActionURL: openInBrowser(u)})
		case bot.ActionLink:
			btns = append(btns, actionBtn{Title: b.Text, ActionURL: openInBrowser(b.URL)})
		default:
			// Ratings and NPS need a card callback; work notifications
			// have none. The survey form link covers them.
			c.log.Debug("dingtalk work notification: callback button dropped", "action", b.Action)
		}
	}
	head := "#### " + mdEscape(m.Title) + "\n\n"
	var tail strings.Builder
	for _, f := range m.Fields {
		tail.WriteString("\n\n**" + mdEscape(f.Label) + "**：" + mdEscape(f.Value))
	}
	if m.Status != "" {
		tail.WriteString("\n\n**" + mdEscape(m.Status) + "**")
	}
	tail.WriteString("\n\n<font color=#A0A0A0>" + contentRef(m.Key) + "</font>")
	body := mdEscape(m.Body)
	build := func(body string) ([]byte, error) {
		md := head + body + tail.String()
		msg := noticeMsg{MsgType: "markdown", Markdown: &markdownMsg{Title: m.Title, Text: md}}
		if len(btns) > 0 {
			msg = noticeMsg{MsgType: "action_card", ActionCard: &actionCard{Title: m.Title, Markdown: md, BtnOrientation: "1", BtnJSONList: btns}}
		}
		return json.Marshal(msg)
	}
	raw, err := build(body)
	if err != nil {
		return nil, fmt.Errorf("encode work notification: %w", err)
	}
	// Shorten the body until the message fits.
	for len(raw) > MaxNoticeBytes && body != "" {
		cut := len(body) - (len(raw) - MaxNoticeBytes) - 8
		if cut < 0 {
			cut = 0
		}
		for cut > 0 && !utf8.RuneStart(body[cut]) {
			cut--
		}
		body = strings.TrimRight(body[:cut], "\\&") + "…"
		if cut == 0 {
			body = ""
		}
		if raw, err = build(body); err != nil {
			return nil, fmt.Errorf("encode work notification: %w", err)
		}
	}
	if len(raw) > MaxNoticeBytes {
		return nil, bot.Permanent("too_long", fmt.Sprintf("work notification is %d bytes, more than %d", len(raw), MaxNoticeBytes), nil)
	}
	return raw, nil
}

type sentTask struct {
	taskID int64
	idx    []int // indexes into the batch
}

// sendNotices sends work notifications, grouping recipients whose content
// is identical into calls of at most MaxNoticeUsers, then checks
// getsendresult for silently dropped recipients.
func (c *Client) sendNotices(ctx context.Context, to []bot.Recipient, msgs []bot.Message, ok []bool, out []bot.Result) {
	type group struct {
		raw []byte
		idx []int
	}
	var groups []*group
	byContent := map[string]*group{}
	for i := range to {
		if !ok[i] {
			continue
		}
		raw, err := c.composeNotice(msgs[i])
		if err != nil {
			out[i].Err = err
			continue
		}
		g := byContent[string(raw)]
		if g == nil {
			g = &group{raw: raw}
			byContent[string(raw)] = g
			groups = append(groups, g)
		}
		g.idx = append(g.idx, i)
	}
	var chunks [][]int
	var raws [][]byte
	for _, g := range groups {
		for k := 0; k < len(g.idx); k += MaxNoticeUsers {
			chunks = append(chunks, g.idx[k:min(k+MaxNoticeUsers, len(g.idx))])
			raws = append(raws, g.raw)
		}
	}
	var (
		mu    sync.Mutex
		tasks []sentTask
	)
	parallel(c.workers, len(chunks), func(ci int) {
		chunk := chunks[ci]
		fail := func(err error) {
			for _, i := range chunk {
				out[i].Err = err
			}
		}
		if left := c.paused(); left > 0 {
			fail(&pausedError{left: left})
			return
		}
		if err := c.limit.wait(ctx, len(chunk)); err != nil {
			fail(err)
			return
		}
		users := make([]string, len(chunk))
		for j, i := range chunk {
			users[j] = to[i].UserID
		}
		taskID, err := c.asyncSend(ctx, users, raws[ci])
		if err != nil {
			c.noteQuota(err)
			fail(toBot(err))
			return
		}
		for _, i := range chunk {
			out[i].Receipt = bot.Receipt{Handle: noticeHandlePrefix + strconv.FormatInt(taskID, 10), SentAt: c.nowUTC()}
		}
		mu.Lock()
		tasks = append(tasks, sentTask{taskID: taskID, idx: chunk})
		mu.Unlock()
	})
	if c.resultWait > 0 && len(tasks) > 0 {
		c.checkResults(ctx, to, tasks, out)
	}
}

// asyncSend calls asyncsend_v2 and returns its task id.
func (c *Client) asyncSend(ctx context.Context, users []string, msg []byte) (int64, error) {
	body := map[string]any{
		"agent_id":    c.cfg.AgentID,
		"userid_list": strings.Join(users, ","),
		"msg":         json.RawMessage(msg),
	}
	var out struct {
		oapiStatus
		oapiSub
		TaskID int64 `json:"task_id"`
	}
	err := c.withOAPIToken(ctx, func(tok string) error {
		if err := c.oapiDo(ctx, http.MethodPost, "/topapi/message/corpconversation/asyncsend_v2", url.Values{"access_token": {tok}}, body, &out); err != nil {
			return err
		}
		return c.statusErrSub("asyncsend_v2", out.oapiStatus, out.oapiSub)
	})
	if err != nil {
		return 0, err
	}
	if out.TaskID == 0 {
		return 0, fmt.Errorf("asyncsend_v2: no task_id in response: %w", errTransient)
	}
	return out.TaskID, nil
}

// sendResult is getsendresult's send_result.
type sendResult struct {
	Invalid   []string `json:"invalid_user_id_list"`
	Forbidden []string `json:"forbidden_user_id_list"`
	Failed    []string `json:"failed_user_id_list"`
	Read      []string `json:"read_user_id_list"`
	Unread    []string `json:"unread_user_id_list"`
	Reasons   []struct {
		Code   string `json:"code"`
		Count  int64  `json:"count"`
		UserID string `json:"userid"`
	} `json:"forbidden_list"`
}

func (c *Client) getSendResult(ctx context.Context, taskID int64) (sendResult, error) {
	var out struct {
		oapiStatus
		oapiSub
		SendResult sendResult `json:"send_result"`
	}
	err := c.withOAPIToken(ctx, func(tok string) error {
		body := map[string]any{"agent_id": c.cfg.AgentID, "task_id": taskID}
		if err := c.oapiDo(ctx, http.MethodPost, "/topapi/message/corpconversation/getsendresult", url.Values{"access_token": {tok}}, body, &out); err != nil {
			return err
		}
		return c.statusErrSub("getsendresult", out.oapiStatus, out.oapiSub)
	})
	return out.SendResult, err
}

// outcome classifies one user in a send result: nil (delivered), a
// *bot.DroppedError, a *bot.PermanentError, or ErrPending.
func (r sendResult) outcome(user string) error {
	switch {
	case slices.Contains(r.Read, user), slices.Contains(r.Unread, user):
		return nil
	case slices.Contains(r.Forbidden, user):
		code, msg := "forbidden", "DingTalk flow control dropped the notification"
		for _, f := range r.Reasons {
			if f.UserID == user {
				code = f.Code
			}
		}
		if slices.Contains(quotaRetryCodes, code) {
			// "Too fast, retry later": not delivered, and a later send
			// may be. Transient, with the quota back-off.
			return &APIError{Op: "getsendresult", Code: code, Message: "DingTalk flow control: sending too fast (per-minute quota), retry later", HTTPStatus: http.StatusOK, kind: kindQuota}
		}
		switch code {
		case CodeDuplicate:
			msg = "DingTalk dropped it: same content already sent to this user today"
		case CodeDailyLimit:
			msg = "DingTalk dropped it: this user's daily notification limit is reached"
		}
		return &bot.DroppedError{Code: code, Message: msg}
	case slices.Contains(r.Invalid, user):
		return bot.Permanent("invalid_user", "DingTalk does not know user "+user, nil)
	case slices.Contains(r.Failed, user):
		return &bot.DroppedError{Code: "send_failed", Message: "DingTalk reported the notification as failed"}
	}
	return ErrPending
}

// checkResults polls getsendresult until every recipient is classified or
// the result wait ends; recipients still pending are reported sent (use
// CheckDelivery later to reconcile them).
func (c *Client) checkResults(ctx context.Context, to []bot.Recipient, tasks []sentTask, out []bot.Result) {
	ctx, cancel := context.WithTimeout(ctx, c.resultWait)
	defer cancel()
	pending := tasks
	delay := 200 * time.Millisecond
	for len(pending) > 0 {
		if kit.Sleep(ctx, delay) != nil {
			c.log.Info("dingtalk send results pending; reconcile later with CheckDelivery", "tasks", len(pending))
			return
		}
		delay = min(2*delay, time.Second)
		var next []sentTask
		for _, task := range pending {
			if err := c.resultLimit.wait(ctx, 1); err != nil {
				next = append(next, task)
				continue
			}
			res, err := c.getSendResult(ctx, task.taskID)
			if err != nil {
				if ctx.Err() == nil {
					c.log.Warn("dingtalk getsendresult failed", "task", task.taskID, "err", err)
				}
				next = append(next, task)
				continue
			}
			var left []int
			quota := false
			for _, i := range task.idx {
				switch err := res.outcome(to[i].UserID); {
				case errors.Is(err, ErrPending):
					left = append(left, i)
				case err != nil:
					var ae *APIError
					quota = quota || errors.As(err, &ae) && ae.kind == kindQuota
					out[i].Err = err
				}
			}
			if quota {
				c.pause(c.quotaPause)
				c.log.Warn("dingtalk flow control refused recipients (too fast); they are retried later", "task", task.taskID, "pause", c.quotaPause)
			}
			if len(left) > 0 {
				next = append(next, sentTask{taskID: task.taskID, idx: left})
			}
		}
		pending = next
	}
}

// CheckDelivery reports what became of a work notification sent to userID
// under handle (a receipt handle "wn:<task_id>"): nil when delivered, a
// *bot.DroppedError when DingTalk silently dropped it (flow control,
// duplicate content, daily limit), a *bot.PermanentError for an unknown
// user, ErrPending while DingTalk is still sending, or another error
// (transient). Card handles are always delivered: it returns nil. A
// reconcile job calls it for recent "sent" DingTalk deliveries and marks
// the dropped ones.
func (c *Client) CheckDelivery(ctx context.Context, handle, userID string) error {
	if !strings.HasPrefix(handle, noticeHandlePrefix) {
		return nil
	}
	taskID, err := strconv.ParseInt(strings.TrimPrefix(handle, noticeHandlePrefix), 10, 64)
	if err != nil || taskID <= 0 {
		return fmt.Errorf("dingtalk: bad work notification handle %q", handle)
	}
	res, err := c.getSendResult(ctx, taskID)
	if err != nil {
		return fmt.Errorf("dingtalk: check delivery: %w", toBot(err))
	}
	err = res.outcome(userID)
	var ae *APIError
	if errors.As(err, &ae) && ae.kind == kindQuota {
		// At send time this is retried; found only now, by a reconcile,
		// nothing will resend it and DingTalk's answer will not change:
		// report it as not delivered rather than leave it "sent".
		return &bot.DroppedError{Code: ae.Code, Message: "DingTalk flow control (sending too fast) kept the notification from this user; it was not delivered and was not resent"}
	}
	return err
}
