// Package chaos is learnloop's chaos suite: it runs the real binary as three
// `serve` replicas against one MariaDB (through a TCP proxy that can cut and
// stall every connection) and a fake WeCom in a separate process that can
// fail on command, kills and stops replicas in the middle of a fan-out, and
// counts at the fake, per recipient, that nothing was lost and nothing was
// sent twice. See README.md; the suite itself is chaos_test.go.
package chaos

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy forwards TCP connections from a local listener to a target address
// and can cut every connection or stop forwarding for a while, as a network
// partition or a stalled database host would.
type Proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	conns  map[*proxyConn]struct{}
	gate   chan struct{} // closed while forwarding; open (unclosed) while stalled
	timer  *time.Timer
	closed bool

	accepted atomic.Int64
	cuts     atomic.Int64
	wg       sync.WaitGroup
}

type proxyConn struct {
	client, server net.Conn
}

func (c *proxyConn) close() {
	_ = c.client.Close()
	if c.server != nil {
		_ = c.server.Close()
	}
}

// NewProxy listens on listen (e.g. "127.0.0.1:0") and forwards every
// connection to target.
func NewProxy(listen, target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	gate := make(chan struct{})
	close(gate)
	p := &Proxy{ln: ln, target: target, conns: map[*proxyConn]struct{}{}, gate: gate}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the proxy's listening address.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Accepted is how many client connections the proxy has accepted.
func (p *Proxy) Accepted() int64 { return p.accepted.Load() }

// Cut closes every open connection (both sides) at once and returns how
// many there were. New connections are accepted as before.
func (p *Proxy) Cut() int {
	p.mu.Lock()
	cs := make([]proxyConn, 0, len(p.conns))
	for c := range p.conns {
		cs = append(cs, *c) // server is written under p.mu
		delete(p.conns, c)
	}
	p.mu.Unlock()
	for _, c := range cs {
		c.close()
	}
	p.cuts.Add(int64(len(cs)))
	return len(cs)
}

// Stall stops forwarding in both directions for d: bytes already read are
// held, new connections are accepted but not connected to the target, and
// everything resumes when d has passed. A Stall during a stall extends it.
func (p *Proxy) Stall(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	if p.timer == nil {
		p.gate = make(chan struct{})
	} else {
		p.timer.Stop()
	}
	p.timer = time.AfterFunc(d, p.resume)
}

// Stalled reports whether the proxy is stalled now.
func (p *Proxy) Stalled() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.timer != nil
}

func (p *Proxy) resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.timer != nil {
		p.timer = nil
		close(p.gate)
	}
}

// wait blocks while the proxy is stalled.
func (p *Proxy) wait() {
	p.mu.Lock()
	g := p.gate
	p.mu.Unlock()
	<-g
}

// Close stops listening, cuts every connection and waits for the
// forwarding goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
		close(p.gate)
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.Cut()
	p.wg.Wait()
	return err
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		p.accepted.Add(1)
		pc := &proxyConn{client: c}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			_ = c.Close()
			return
		}
		p.conns[pc] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(1)
		go p.handle(pc)
	}
}

func (p *Proxy) handle(pc *proxyConn) {
	defer p.wg.Done()
	defer func() {
		p.mu.Lock()
		delete(p.conns, pc)
		p.mu.Unlock()
		pc.close()
	}()
	p.wait()
	s, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	p.mu.Lock()
	_, live := p.conns[pc]
	pc.server = s
	p.mu.Unlock()
	if !live { // cut while connecting
		_ = s.Close()
		return
	}
	done := make(chan struct{}, 2)
	go func() { p.pipe(s, pc.client); done <- struct{}{} }()
	go func() { p.pipe(pc.client, s); done <- struct{}{} }()
	<-done // one side ended: end both
	pc.close()
	<-done
}

// pipe copies src to dst, holding each chunk while the proxy is stalled.
func (p *Proxy) pipe(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.wait()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
