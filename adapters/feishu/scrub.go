package feishu

// maxErrLen caps the length of an error message taken from a response.
const maxErrLen = 400

// scrub returns err with the app secret, verification token, encrypt key
// and the recent tenant tokens removed from its text, truncated, wrapping
// nothing an SDK put in it (see kit.Redactor.Error).
func (c *Client) scrub(err error) error { return c.secrets.Error(err) }

// scrubString removes the same secrets from s.
func (c *Client) scrubString(s string) string { return c.secrets.String(s) }
