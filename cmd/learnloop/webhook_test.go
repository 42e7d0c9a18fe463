package main

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWebhookCLI: add (secret printed once), list, a private target refused,
// an empty log, remove.
func TestWebhookCLI(t *testing.T) {
	t.Parallel()
	env := migrated(t, t.TempDir())
	_, _, err := run(t, env, "webhook", "add", "http://127.0.0.1:8080/hook")
	require.ErrorContains(t, err, "url: points at a loopback, private or link-local address")
	out := runOK(t, env, "webhook", "add", "https://lms.example.com/learnloop", "--events", "checkin.created,response.submitted", "--description", "LMS")
	require.Regexp(t, `webhook 1: https://lms.example.com/learnloop`, out)
	secret := regexp.MustCompile(`secret: (whsec_[0-9a-f]{48})`).FindStringSubmatch(out)
	require.Len(t, secret, 2, out)
	out = runOK(t, env, "webhook", "list")
	require.Contains(t, out, "checkin.created,response.submitted")
	require.NotContains(t, out, secret[1])
	_, _, err = run(t, env, "webhook", "add", "https://bi.example.com", "--events", "nope")
	require.ErrorContains(t, err, `events: "nope" is not one of`)
	out = runOK(t, env, "webhook", "log", "1")
	require.Contains(t, out, "DELIVERY")
	out = runOK(t, env, "webhook", "remove", "1")
	require.Contains(t, out, "webhook 1 removed")
	_, _, err = run(t, env, "webhook", "log", "1")
	require.ErrorContains(t, err, "not found")
}
