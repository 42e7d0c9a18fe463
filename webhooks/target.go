package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// ErrPrivateTarget is returned when a webhook would go to a loopback,
// private, link-local or otherwise internal address and the configuration
// does not allow it (webhooks.allow_private_targets).
var ErrPrivateTarget = errors.New("webhook target is an internal address")

// checkURL validates an endpoint URL: http or https, a host, no user info,
// and — unless allowPrivate — no literal internal address. Names are
// checked again on every connection (dialControl), where DNS has answered.
func checkURL(raw string, allowPrivate bool) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, errors.New("is not a URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, errors.New("must start with https:// or http://")
	case u.Host == "" || u.Hostname() == "":
		return nil, errors.New("has no host")
	case u.User != nil:
		return nil, errors.New("must not carry a user name or password")
	case u.Fragment != "":
		return nil, errors.New("must not have a #fragment")
	case len(raw) > 1024:
		return nil, errors.New("is longer than 1024 characters")
	}
	if !allowPrivate {
		host := u.Hostname()
		if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
			return nil, ErrPrivateTarget
		}
		if ip, err := netip.ParseAddr(host); err == nil && internal(ip) {
			return nil, ErrPrivateTarget
		}
	}
	return u, nil
}

// internal reports addresses a webhook must not reach by default.
func internal(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() ||
		cgnat.Contains(ip) || benchmarking.Contains(ip)
}

var (
	cgnat        = netip.MustParsePrefix("100.64.0.0/10")
	benchmarking = netip.MustParsePrefix("198.18.0.0/15")
)

// dialControl refuses a connection to an internal address after DNS has
// resolved the name, so a name that points inside (or is rebound there)
// is refused too.
func dialControl(allowPrivate bool) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		if allowPrivate {
			return nil
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("webhook dial %s: %w", address, err)
		}
		if internal(ap.Addr()) {
			return fmt.Errorf("%s: %w", ap.Addr(), ErrPrivateTarget)
		}
		return nil
	}
}

// dialer is the net.Dialer of the webhook client.
func dialer(allowPrivate bool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Control: dialControl(allowPrivate)}
	return d.DialContext
}
