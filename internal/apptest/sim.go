package apptest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/learnloop/learnloop/adapters/simulator"
	"github.com/learnloop/learnloop/bot"
)

// Button returns the first button with action, and value unless value is
// "", on cards (a simulator inbox, or one card); the test fails when there
// is none.
func Button(t testing.TB, action, value string, cards ...simulator.Card) bot.Button {
	t.Helper()
	for _, c := range cards {
		for _, b := range c.Message.Buttons {
			if b.Action == action && (value == "" || b.Value == value) {
				return b
			}
		}
	}
	t.Fatalf("no %s %s button on %d cards", action, value, len(cards))
	return bot.Button{}
}

// Tap taps btn as user through the simulator's API (POST /sim/api/tap on
// baseURL), which must answer 200, and returns the answer.
func Tap(t testing.TB, baseURL, user string, btn bot.Button) simulator.TapResponse {
	t.Helper()
	var tr simulator.TapResponse
	req := simulator.TapRequest{User: user, Token: btn.Token, Action: btn.Action, Value: btn.Value}
	require.Equal(t, http.StatusOK, Call(t, baseURL, http.MethodPost, "/sim/api/tap", "", req, &tr))
	return tr
}
