package feishu

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/larksuite/oapi-sdk-go/v3/event/dispatcher/callback"
	"github.com/stretchr/testify/require"
)

// TestAppendAnswer: the hand-written answer reads as encoding/json's
// encoding of the same response; shapes it does not write fall back.
func TestAppendAnswer(t *testing.T) {
	t.Parallel()
	raw := json.RawMessage(`{"schema":"2.0","body":{"elements":[{"tag":"div","text":{"content":"已签到 ✓ <&>","tag":"plain_text"}}]}}`)
	cases := []struct {
		name string
		resp *callback.CardActionTriggerResponse
		ok   bool
	}{
		{"empty", &callback.CardActionTriggerResponse{}, true},
		{"toast", toastOnly("success", "签到成功 09:02"), true},
		{"toast without content", toastOnly("info", ""), true},
		{"toast without type", toastOnly("", "x"), true},
		{"card", &callback.CardActionTriggerResponse{Card: &callback.Card{Type: "raw", Data: raw}}, true},
		{"toast and card", &callback.CardActionTriggerResponse{Toast: &callback.Toast{Type: "success", Content: "ok"}, Card: &callback.Card{Type: "raw", Data: raw}}, true},
		{"escapes", toastOnly("warning", "\"q\" \\ \n\r\t\x01\x1f <b>&amp; \u2028\u2029 \xff end"), true},
		{"i18n toast", &callback.CardActionTriggerResponse{Toast: &callback.Toast{Type: "info", I18nContent: map[string]string{"zh_cn": "好"}}}, false},
		{"template card", &callback.CardActionTriggerResponse{Card: &callback.Card{Type: "template", Data: callback.TemplateCard{TemplateID: "t"}}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want, err := json.Marshal(tc.resp)
			require.NoError(t, err)
			got, ok := appendAnswer(nil, tc.resp)
			require.Equal(t, tc.ok, ok)
			if ok {
				require.True(t, json.Valid(got), "%s", got)
				require.JSONEq(t, string(want), string(got))
			}
			rec := httptest.NewRecorder()
			writeAnswer(rec, tc.resp)
			require.Equal(t, 200, rec.Code)
			require.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
			require.JSONEq(t, string(want), rec.Body.String())
		})
	}
}
