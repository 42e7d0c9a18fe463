package feishu

import "strings"

// scrubbed is an error whose message has every secret this client knows
// replaced, so SDK and transport errors can be logged and stored safely.
type scrubbed struct {
	msg string
	err error
}

// Error implements error.
func (e *scrubbed) Error() string { return e.msg }

// Unwrap returns the original error.
func (e *scrubbed) Unwrap() error { return e.err }

// maxErrLen caps the length of an error message taken from a response.
const maxErrLen = 400

// scrub returns err with the app secret, verification token, encrypt key
// and the cached tenant token removed from its message, truncated.
func (c *Client) scrub(err error) error {
	if err == nil {
		return nil
	}
	msg := c.scrubString(err.Error())
	if len(msg) > maxErrLen {
		msg = truncateUTF8(msg, maxErrLen) + "…"
	}
	return &scrubbed{msg: msg, err: err}
}

func (c *Client) scrubString(s string) string {
	secrets := []string{c.cfg.AppSecret, c.cfg.VerificationToken, c.cfg.EncryptKey}
	if c.tokens != nil {
		secrets = append(secrets, c.tokens.last())
	}
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

// truncateUTF8 cuts s to at most n bytes on a rune boundary.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}
