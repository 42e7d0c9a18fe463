package wecomtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestServerEnforces checks the fake's own teeth: what the real WeCom
// refuses, the fake refuses with the same errcode.
func TestServerEnforces(t *testing.T) {
	t.Parallel()
	cfg := Config{CorpID: "ww" + RandHex(8), Secret: "sec-" + RandHex(16), AgentID: 1000002, Members: []string{"a", "b"}}
	srv := httptest.NewServer(New(cfg))
	t.Cleanup(srv.Close)
	get := func(path string) map[string]any {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return out
	}
	tok := get("/cgi-bin/gettoken?corpid=" + cfg.CorpID + "&corpsecret=" + cfg.Secret)["access_token"].(string)
	require.EqualValues(t, 40001, get("/cgi-bin/gettoken?corpid=" + cfg.CorpID + "&corpsecret=x")["errcode"])
	require.EqualValues(t, 40013, get("/cgi-bin/gettoken?corpid=x&corpsecret=" + cfg.Secret)["errcode"])
	send := func(token string, body map[string]any) map[string]any {
		raw, _ := json.Marshal(body)
		resp, err := http.Post(srv.URL+"/cgi-bin/message/send"+"?access_token="+token, "application/json", strings.NewReader(string(raw)))
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return out
	}
	card := func(task string, buttons int) map[string]any {
		var bl []map[string]any
		for i := range buttons {
			bl = append(bl, map[string]any{"type": 0, "text": "b", "key": strconv.Itoa(i)})
		}
		return map[string]any{"card_type": "button_interaction", "main_title": map[string]any{"title": "t"}, "task_id": task, "button_list": bl}
	}
	msg := func(to string, c map[string]any) map[string]any {
		return map[string]any{"touser": to, "msgtype": "template_card", "agentid": cfg.AgentID, "template_card": c}
	}
	many := strings.TrimSuffix(strings.Repeat("a|", 1001), "|")
	tests := []struct {
		name  string
		token string
		body  map[string]any
		want  int64
	}{
		{"ok", tok, msg("a|b", card("t1", 1)), 0},
		{"unknown token", "nope", msg("a", card("t2", 1)), CodeInvalidToken},
		{"wrong agent", tok, map[string]any{"touser": "a", "msgtype": "template_card", "agentid": 1, "template_card": card("t3", 1)}, CodeInvalidAgent},
		{"1001 recipients", tok, msg(many, card("t4", 1)), CodeUserListLength},
		{"7 buttons", tok, msg("a", card("t5", 7)), CodeInvalidButtons},
		{"no buttons", tok, msg("a", card("t6", 0)), CodeInvalidButtons},
		{"same task_id again", tok, msg("a", card("t1", 1)), CodeTaskIDExists},
		{"task_id with a colon", tok, msg("a", card("t:7", 1)), CodeTaskIDExists},
		{"task_id of 129 bytes", tok, msg("a", card(strings.Repeat("x", 129), 1)), CodeTaskIDExists},
		{"key over 1024 bytes", tok, msg("a", map[string]any{"card_type": "button_interaction", "main_title": map[string]any{"title": "t"}, "task_id": "t8",
			"button_list": []map[string]any{{"type": 0, "text": "b", "key": strings.Repeat("k", 1025)}}}), CodeInvalidKey},
		{"all users unknown", tok, msg("x|y", card("t9", 1)), CodeAllInvalidUsers},
	}
	for _, tc := range tests {
		got := send(tc.token, tc.body)
		require.EqualValues(t, tc.want, got["errcode"], "%s: %v", tc.name, got)
	}
	partial := send(tok, msg("a|zz", card("t10", 1)))
	require.EqualValues(t, 0, partial["errcode"])
	require.Equal(t, "zz", partial["invaliduser"])
	require.NotEmpty(t, partial["response_code"])
}
