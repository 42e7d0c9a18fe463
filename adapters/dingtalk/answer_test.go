package dingtalk

import (
	"encoding/json"
	"testing"

	scard "github.com/open-dingtalk/dingtalk-stream-sdk-go/card"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/payload"
	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/text"
)

// TestFrameAnswer: the hand-written acknowledgement data reads as
// encoding/json's encoding of {"response": r}, for every shape the
// adapter answers with.
func TestFrameAnswer(t *testing.T) {
	t.Parallel()
	opts := &scard.CardUpdateOptions{UpdateCardDataByKey: true, UpdatePrivateDataByKey: true}
	cases := []struct {
		name string
		r    *scard.CardResponse
	}{
		{"empty", &scard.CardResponse{}},
		{"retry", retryResponse(text.EN)},
		{"options only", &scard.CardResponse{CardUpdateOptions: &scard.CardUpdateOptions{UpdateCardDataByKey: true}}},
		{"nil map", &scard.CardResponse{CardUpdateOptions: opts, CardData: &scard.CardDataDto{}}},
		{"empty map", &scard.CardResponse{CardUpdateOptions: opts, UserPrivateData: &scard.CardDataDto{CardParamMap: map[string]string{}}}},
		{"card", &scard.CardResponse{CardUpdateOptions: opts,
			CardData: &scard.CardDataDto{CardParamMap: map[string]string{"title": "签到 <&>", "fields": `[{"label":"时间","value":"10:00"}]`,
				"done": "true", "content": "**已签到** ✓\n\n\"q\"\t\x01\u2028", "z": "", "a": "\xff"}},
			UserPrivateData: &scard.CardDataDto{CardParamMap: map[string]string{"toast": "签到成功", "checkin_token": "en.tok"}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want, err := json.Marshal(map[string]any{"response": tc.r})
			require.NoError(t, err)
			ack, err := frameAnswer(tc.r)
			require.NoError(t, err)
			require.Equal(t, payload.DataFrameResponseStatusCodeKOK, ack.Code)
			require.True(t, json.Valid([]byte(ack.Data)), ack.Data)
			require.JSONEq(t, string(want), ack.Data)
		})
	}
}
