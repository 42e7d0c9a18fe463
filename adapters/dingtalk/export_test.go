package dingtalk

import (
	"net/url"
	"testing"
	"time"
)

// Exports for the conformance harness, which lives in package dingtalk_test
// beside the fake.

// SealCallback builds a signed, encrypted HTTP callback for plain, as
// DingTalk sends it to c.
func SealCallback(t testing.TB, c *Client, plain string, at time.Time) (url.Values, string) {
	return sealed(t, c, plain, at)
}

// CardCallbackJSON is the plaintext of a tap by user on the card outTrackID.
func CardCallbackJSON(t testing.TB, outTrackID, user string, params map[string]any) string {
	return cardCallbackJSON(t, outTrackID, user, params)
}

// CardCallbackJSONIDs is the plaintext of a tap by user on the
// StandardCard bizID's button id (no params).
func CardCallbackJSONIDs(t testing.TB, bizID, user, buttonID string) string {
	return cardCallbackJSONIDs(t, bizID, user, buttonID)
}
