package chaos

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/silenceper/wechat/v2/util"
	"github.com/stretchr/testify/require"
)

// Replica settings: short leases and backoff so a lost job is taken over
// within seconds; the shutdown budget is asserted by the SIGTERM scenario.
const (
	lease           = 3 * time.Second
	pollInterval    = 200 * time.Millisecond
	shutdownTimeout = 5 * time.Second
	weComTimeout    = 1 * time.Second
	agentID         = 1000002
	replicas        = 3
)

// binaries are the programs under test, built once per run.
type binaries struct {
	learnloop, fake string
}

// buildBinaries builds ./cmd/learnloop and ./chaos/fakewecom into dir.
// LEARNLOOP_CHAOS_BIN names a prebuilt learnloop binary to test instead.
func buildBinaries(t *testing.T, dir string) binaries {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	b := binaries{learnloop: filepath.Join(dir, "learnloop"), fake: filepath.Join(dir, "fakewecom")}
	builds := []struct{ out, pkg string }{{b.fake, "./chaos/fakewecom"}}
	if v := os.Getenv("LEARNLOOP_CHAOS_BIN"); v != "" {
		b.learnloop, err = filepath.Abs(v)
		require.NoError(t, err)
		_, err = os.Stat(b.learnloop)
		require.NoError(t, err, "LEARNLOOP_CHAOS_BIN")
		t.Logf("testing the prebuilt %s (LEARNLOOP_CHAOS_BIN)", b.learnloop)
	} else {
		builds = append(builds, struct{ out, pkg string }{b.learnloop, "./cmd/learnloop"})
	}
	var wg sync.WaitGroup
	errs := make([]error, len(builds))
	for i, p := range builds {
		wg.Go(func() {
			cmd := exec.Command("go", "build", "-o", p.out, p.pkg)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("go build %s: %v\n%s", p.pkg, err, out)
			}
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	return b
}

// cluster is one scenario's world: a fresh database, the proxy in front of
// it, a fake WeCom process, three replicas and a seeded session.
type cluster struct {
	t      *testing.T
	bin    binaries
	dir    string
	people int

	db        *sql.DB // direct, never through the proxy: observing is not faulted
	proxy     *Proxy
	dbName    string
	proxyDSN  string
	fakeURL   string
	fakeCmd   *exec.Cmd
	replicas  []*replica
	hc        *http.Client
	corpID    string
	secret    string
	cbToken   string
	aesKey    string
	admin     string
	link      string
	users     []string // wecom userids of the roster, in roster order
	sessionID uint64
	tpID      uint64
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// newCluster builds a fresh world for one scenario and registers its
// teardown (every child process killed, the database dropped, logs dumped
// on failure).
func newCluster(t *testing.T, bin binaries, people int) *cluster {
	t.Helper()
	c := &cluster{
		t: t, bin: bin, dir: t.TempDir(), people: people,
		hc:     &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}},
		corpID: "ww" + randHex(8), secret: "sec" + randHex(16), cbToken: "tk" + randHex(6),
		admin: "adm" + randHex(12), link: "link-" + randHex(16),
	}
	var k [32]byte
	_, _ = rand.Read(k[:])
	c.aesKey = strings.TrimRight(base64.StdEncoding.EncodeToString(k[:]), "=")
	for i := range people {
		c.users = append(c.users, fmt.Sprintf("wcu%06d", i+1))
	}
	t.Cleanup(func() {
		if t.Failed() {
			c.dumpLogs()
		}
		if dir := os.Getenv("LEARNLOOP_CHAOS_LOGS"); dir != "" {
			c.keepLogs(filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")))
		}
	})
	c.createDatabase()
	c.migrate()
	c.startFake()
	for i := range replicas {
		c.replicas = append(c.replicas, &replica{c: c, idx: i, addr: freePort(t), log: filepath.Join(c.dir, fmt.Sprintf("replica%d.log", i))})
	}
	t.Cleanup(func() {
		for _, r := range c.replicas {
			r.signal(syscall.SIGKILL)
			r.waitExit(5 * time.Second)
		}
	})
	var wg sync.WaitGroup
	errs := make([]error, len(c.replicas))
	for i, r := range c.replicas {
		wg.Go(func() { errs[i] = r.start() })
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	c.seed()
	return c
}

func baseDSN() string {
	if v := os.Getenv("LEARNLOOP_TEST_MYSQL_DSN"); v != "" {
		return v
	}
	return "root@tcp(127.0.0.1:3306)/test"
}

// createDatabase makes a database with a random name, the proxy in front
// of MariaDB, and the two DSNs.
func (c *cluster) createDatabase() {
	t := c.t
	base, err := mysql.ParseDSN(baseDSN())
	require.NoError(t, err, "parse LEARNLOOP_TEST_MYSQL_DSN")
	admin, err := sql.Open("mysql", base.FormatDSN())
	require.NoError(t, err)
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		// CI=true must fail, never skip; outside CI the suite needs MariaDB too.
		if os.Getenv("CI") == "true" {
			t.Fatalf("MariaDB is required with CI=true: %v", err)
		}
		t.Skipf("MariaDB unavailable (%v); set LEARNLOOP_TEST_MYSQL_DSN", err)
	}
	c.dbName = "ll_chaos_" + randHex(6)
	_, err = admin.ExecContext(ctx, "CREATE DATABASE `"+c.dbName+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
	require.NoError(t, err)
	t.Cleanup(func() {
		a, err := sql.Open("mysql", base.FormatDSN())
		if err != nil {
			return
		}
		defer a.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := a.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+c.dbName+"`"); err != nil {
			t.Logf("drop %s: %v", c.dbName, err)
		}
	})
	direct := base.Clone()
	direct.DBName = c.dbName
	direct.ParseTime = true
	direct.Loc = time.UTC
	c.db, err = sql.Open("mysql", direct.FormatDSN())
	require.NoError(t, err)
	c.db.SetMaxOpenConns(4)
	t.Cleanup(func() { _ = c.db.Close() })

	target := base.Addr
	if base.Net != "tcp" || target == "" {
		t.Fatalf("LEARNLOOP_TEST_MYSQL_DSN must use tcp(host:port) for the proxy, got %q", base.Net)
	}
	c.proxy, err = NewProxy("127.0.0.1:0", target)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.proxy.Close() })
	proxied := base.Clone()
	proxied.DBName = c.dbName
	proxied.Addr = c.proxy.Addr()
	c.proxyDSN = proxied.FormatDSN()
}

// env is the replicas' configuration, entirely from the environment.
func (c *cluster) env(addr string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LEARNLOOP_") {
			out = append(out, kv)
		}
	}
	set := map[string]string{
		"DATABASE_DRIVER": "mysql", "DATABASE_DSN": c.proxyDSN, "DATABASE_MAX_OPEN_CONNS": "8",
		"DATABASE_MAX_IDLE_CONNS": "4", "DATABASE_MIGRATE_ON_START": "false",
		"HTTP_SHUTDOWN_TIMEOUT": shutdownTimeout.String(),
		"SECURITY_LINK_SECRET":  c.link, "SECURITY_ADMIN_TOKENS": c.admin,
		"QUIET_HOURS_ENABLED": "false",
		"SCHEDULER_LEASE":     lease.String(), "SCHEDULER_POLL_INTERVAL": pollInterval.String(),
		"SCHEDULER_BACKOFF_BASE": "1s", "SCHEDULER_BACKOFF_MAX": "5s", "SCHEDULER_MAX_ATTEMPTS": "30",
		"DELIVERY_DEFAULT_PLATFORM": "wecom",
		"SURVEYS_FEEDBACK":          "false", "SURVEYS_FOLLOWUP": "false",
		"PLATFORMS_SIMULATOR_ENABLED": "false",
		"PLATFORMS_WECOM_ENABLED":     "true", "PLATFORMS_WECOM_CORP_ID": c.corpID,
		"PLATFORMS_WECOM_AGENT_ID": strconv.Itoa(agentID), "PLATFORMS_WECOM_SECRET": c.secret,
		"PLATFORMS_WECOM_TOKEN": c.cbToken, "PLATFORMS_WECOM_ENCODING_AES_KEY": c.aesKey,
		"PLATFORMS_WECOM_API_BASE": c.fakeURL, "PLATFORMS_WECOM_TIMEOUT": weComTimeout.String(),
		"LOG_LEVEL": "info",
	}
	if addr != "" {
		set["HTTP_ADDR"] = addr
		set["HTTP_PUBLIC_URL"] = "http://" + addr
	}
	for k, v := range set {
		out = append(out, "LEARNLOOP_"+k+"="+v)
	}
	return out
}

// migrate runs `learnloop migrate` against the fresh database.
func (c *cluster) migrate() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin.learnloop, "migrate")
	cmd.Env = c.env("")
	orphanProof(cmd)
	out, err := cmd.CombinedOutput()
	require.NoError(c.t, err, "learnloop migrate: %s", out)
}

// startFake starts the fake WeCom process and reads its address.
func (c *cluster) startFake() {
	t := c.t
	members := filepath.Join(c.dir, "members.txt")
	require.NoError(t, os.WriteFile(members, []byte(strings.Join(c.users, "\n")+"\n"), 0o600))
	logf, err := os.Create(filepath.Join(c.dir, "fakewecom.log"))
	require.NoError(t, err)
	cmd := exec.Command(c.bin.fake, "-addr", "127.0.0.1:0", "-corp-id", c.corpID, "-secret", c.secret,
		"-agent-id", strconv.Itoa(agentID), "-members", members, "-hold", (2 * weComTimeout).String(),
		"-token", c.cbToken, "-aes-key", c.aesKey)
	cmd.Stderr = logf
	orphanProof(cmd)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	c.fakeCmd = cmd
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = logf.Close()
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(logf, stdout)
	}()
	select {
	case line, ok := <-lines:
		require.True(t, ok, "fakewecom exited before it was ready")
		_, u, found := strings.Cut(line, "listening on ")
		require.True(t, found, "fakewecom said %q", line)
		c.fakeURL = u
	case <-time.After(15 * time.Second):
		t.Fatal("fakewecom did not print its address within 15s")
	}
}

// replica is one `learnloop serve` process slot; restarts reuse its port.
type replica struct {
	c    *cluster
	idx  int
	addr string
	log  string

	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{}
	exitedAt time.Time
	starts   int
}

// start launches the replica and waits until /readyz answers 200.
func (r *replica) start() error {
	f, err := os.OpenFile(r.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.starts++
	fmt.Fprintf(f, "=== chaos: start #%d at %s\n", r.starts, time.Now().UTC().Format(time.RFC3339Nano))
	cmd := exec.Command(r.c.bin.learnloop, "serve")
	cmd.Env = r.c.env(r.addr)
	cmd.Stdout, cmd.Stderr = f, f
	orphanProof(cmd)
	if err := cmd.Start(); err != nil {
		r.mu.Unlock()
		_ = f.Close()
		return fmt.Errorf("start replica %d: %w", r.idx, err)
	}
	done := make(chan struct{})
	r.cmd, r.done = cmd, done
	r.mu.Unlock()
	go func() {
		err := cmd.Wait()
		r.mu.Lock()
		r.exitedAt = time.Now()
		r.mu.Unlock()
		fmt.Fprintf(f, "=== chaos: exited at %s: %v\n", time.Now().UTC().Format(time.RFC3339Nano), err)
		_ = f.Close()
		close(done)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("replica %d exited during start (see %s)", r.idx, r.log)
		default:
		}
		resp, err := r.c.hc.Get("http://" + r.addr + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("replica %d not ready within 30s", r.idx)
}

// pid is the current process id (0 when not started).
func (r *replica) pid() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil || r.cmd.Process == nil {
		return 0
	}
	return r.cmd.Process.Pid
}

func (r *replica) running() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done == nil {
		return false
	}
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

func (r *replica) signal(sig syscall.Signal) {
	r.mu.Lock()
	cmd := r.cmd
	r.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		_ = cmd.Process.Signal(sig)
	}
}

// waitExit waits up to d for the process to exit and reports whether it did.
func (r *replica) waitExit(d time.Duration) bool {
	r.mu.Lock()
	done := r.done
	r.mu.Unlock()
	if done == nil {
		return true
	}
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

func (r *replica) exitTime() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.exitedAt
}

// dumpLogs prints the tail of every log of the cluster.
func (c *cluster) dumpLogs() {
	paths := []string{filepath.Join(c.dir, "fakewecom.log")}
	for _, r := range c.replicas {
		paths = append(paths, r.log)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		c.t.Logf("---- tail of %s (%d lines) ----\n%s", filepath.Base(p), len(lines), strings.Join(lines[max(0, len(lines)-40):], "\n"))
	}
}

// keepLogs copies the cluster's logs to dir (LEARNLOOP_CHAOS_LOGS).
func (c *cluster) keepLogs(dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.t.Logf("keep logs: %v", err)
		return
	}
	paths := []string{filepath.Join(c.dir, "fakewecom.log")}
	for _, r := range c.replicas {
		paths = append(paths, r.log)
	}
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			_ = os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o644)
		}
	}
	c.t.Logf("logs kept in %s", dir)
}

// grepLogs returns the log lines of every replica containing s.
func (c *cluster) grepLogs(s string, limit int) []string {
	var out []string
	for _, r := range c.replicas {
		b, _ := os.ReadFile(r.log)
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, s) && len(out) < limit {
				out = append(out, fmt.Sprintf("replica%d: %s", r.idx, l))
			}
		}
	}
	return out
}

// api calls the admin API on replica 0 and decodes the answer into out.
func (c *cluster) api(method, path, ctype string, body []byte, want int, out any) {
	t := c.t
	t.Helper()
	req, err := http.NewRequest(method, "http://"+c.replicas[0].addr+"/api/v1"+path, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+c.admin)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	require.Equal(t, want, resp.StatusCode, "%s %s: %s", method, path, raw)
	if out != nil {
		require.NoError(t, json.Unmarshal(raw, out), "%s %s: %s", method, path, raw)
	}
}

func jsonBody(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// seed creates a course, a session starting in 20 minutes (check-in is
// open), its roster of c.people WeCom users and a check-in touchpoint whose
// own time is far away: the scenario sends it now.
func (c *cluster) seed() {
	var course, tp struct {
		ID uint64 `json:"id"`
	}
	var created struct {
		Session struct {
			ID uint64 `json:"id"`
		} `json:"session"`
	}
	c.api(http.MethodPost, "/courses", "application/json", jsonBody(map[string]any{"code": "CHAOS-1", "title": "可靠性演练"}), http.StatusCreated, &course)
	start := time.Now().Add(20 * time.Minute).UTC()
	c.api(http.MethodPost, "/sessions", "application/json", jsonBody(map[string]any{
		"course_id": course.ID, "starts_at": start, "ends_at": start.Add(3 * time.Hour), "location": "3F A", "teacher": "赵老师", "plan": "none",
	}), http.StatusCreated, &created)
	sess := created.Session
	var csv bytes.Buffer
	csv.WriteString("external_id,name,department,platform,wecom_id\n")
	for i, u := range c.users {
		fmt.Fprintf(&csv, "E%06d,学员%06d,部门%d,wecom,%s\n", i+1, i+1, i%20, u)
	}
	var res struct {
		Enrolled int `json:"enrolled"`
	}
	c.api(http.MethodPost, fmt.Sprintf("/sessions/%d/roster", sess.ID), "text/csv", csv.Bytes(), http.StatusOK, &res)
	require.Equal(c.t, c.people, res.Enrolled)
	c.api(http.MethodPost, fmt.Sprintf("/sessions/%d/touchpoints", sess.ID), "application/json",
		jsonBody(map[string]any{"kind": "checkin_prompt", "anchor": "start", "offset_minutes": 120, "audience": "all"}), http.StatusCreated, &tp)
	c.sessionID, c.tpID = sess.ID, tp.ID
}

// sendNow fires the touchpoint now and returns the job's id.
func (c *cluster) sendNow() uint64 {
	var out struct {
		JobID uint64 `json:"job_id"`
	}
	c.api(http.MethodPost, fmt.Sprintf("/touchpoints/%d/send-now", c.tpID), "", nil, http.StatusAccepted, &out)
	require.NotZero(c.t, out.JobID)
	return out.JobID
}

// ---- the fake ----

type fakeStats struct {
	Accepted       int            `json:"accepted"`
	PerToUser      map[string]int `json:"per_touser"`
	TaskIDs        int            `json:"task_ids"`
	Duplicates     int            `json:"duplicates"`
	DuplicateUsers []string       `json:"duplicate_users"`
	Rejections     map[string]int `json:"rejections"`
	HeldAccepted   int            `json:"held_accepted"`
	Updates        int            `json:"updates"`
	PassiveUpdates int            `json:"passive_updates"`
}

type fakeCard struct {
	Seq      int      `json:"seq"`
	ToUser   string   `json:"touser"`
	CardType string   `json:"card_type"`
	TaskID   string   `json:"task_id"`
	Keys     []string `json:"keys"`
}

func (c *cluster) fakeGet(path string, out any) error {
	resp, err := c.hc.Get(c.fakeURL + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fake %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (c *cluster) stats(users bool) fakeStats {
	var st fakeStats
	q := "/stats?users=0"
	if users {
		q = "/stats"
	}
	require.NoError(c.t, c.fakeGet(q, &st))
	return st
}

func (c *cluster) accepted() int {
	var st fakeStats
	if err := c.fakeGet("/stats?users=0", &st); err != nil {
		return -1
	}
	return st.Accepted
}

// control switches the fake's fault mode.
func (c *cluster) control(kv ...string) {
	form := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Set(kv[i], kv[i+1])
	}
	resp, err := c.hc.PostForm(c.fakeURL+"/control", form)
	require.NoError(c.t, err)
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Equal(c.t, http.StatusOK, resp.StatusCode, "control %v: %s", kv, b)
}

// ---- the database ----

type jobRow struct {
	State, LockedBy, LastError string
	Attempts                   int
}

func (c *cluster) job(ctx context.Context, id uint64) (jobRow, error) {
	var j jobRow
	err := c.db.QueryRowContext(ctx, "SELECT state, locked_by, COALESCE(last_error,''), attempts FROM jobs WHERE id = ?", id).
		Scan(&j.State, &j.LockedBy, &j.LastError, &j.Attempts)
	return j, err
}

func (c *cluster) deliveryCounts(ctx context.Context) (map[string]int, error) {
	rows, err := c.db.QueryContext(ctx, "SELECT status, COUNT(*) FROM deliveries WHERE touchpoint_id = ? GROUP BY status", c.tpID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

// checkedIn returns the WeCom userids with a stored check-in.
func (c *cluster) checkedIn(ctx context.Context) (map[string]bool, error) {
	rows, err := c.db.QueryContext(ctx, "SELECT e.wecom_id FROM checkins ci JOIN employees e ON e.id = ci.employee_id WHERE ci.session_id = ?", c.sessionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		out[u] = true
	}
	return out, rows.Err()
}

// workerPID parses the pid out of a scheduler worker id
// (hostname-pid-random; the hostname may hold dashes).
func workerPID(lockedBy string) int {
	i := strings.LastIndexByte(lockedBy, '-')
	if i <= 0 {
		return 0
	}
	j := strings.LastIndexByte(lockedBy[:i], '-')
	pid, err := strconv.Atoi(lockedBy[j+1 : i])
	if err != nil {
		return 0
	}
	return pid
}

// replicaByPID returns the live replica running pid.
func (c *cluster) replicaByPID(pid int) *replica {
	for _, r := range c.replicas {
		if pid != 0 && r.pid() == pid && r.running() {
			return r
		}
	}
	return nil
}

// ---- taps ----

// tapRequest builds a WeCom template_card_event callback for card, signed
// and encrypted with the app's Token and EncodingAESKey (WXBizMsgCrypt).
func (c *cluster) tapRequest(card fakeCard, responseCode string) (string, []byte, error) {
	if len(card.Keys) == 0 {
		return "", nil, fmt.Errorf("card %s has no callback key", card.TaskID)
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	nonce := randHex(8)
	plain := fmt.Sprintf("<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName>"+
		"<CreateTime>%s</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event>"+
		"<EventKey><![CDATA[%s]]></EventKey><TaskId><![CDATA[%s]]></TaskId><CardType><![CDATA[%s]]></CardType>"+
		"<ResponseCode><![CDATA[%s]]></ResponseCode><AgentID>%d</AgentID></xml>",
		c.corpID, card.ToUser, ts, card.Keys[0], card.TaskID, card.CardType, responseCode, agentID)
	random := make([]byte, 16)
	_, _ = rand.Read(random)
	enc, err := util.EncryptMsg(random, []byte(plain), c.corpID, c.aesKey)
	if err != nil {
		return "", nil, err
	}
	sig := util.Signature(c.cbToken, ts, nonce, string(enc))
	body := fmt.Sprintf("<xml><ToUserName><![CDATA[%s]]></ToUserName><Encrypt><![CDATA[%s]]></Encrypt><AgentID><![CDATA[%d]]></AgentID></xml>",
		c.corpID, enc, agentID)
	q := url.Values{"msg_signature": {sig}, "timestamp": {ts}, "nonce": {nonce}}
	return "/callbacks/wecom?" + q.Encode(), []byte(body), nil
}

// passive hands a tap's answer to the fake, which reads it as WeCom does;
// it reports whether the answer updated the card, and why not when the
// fake refused it.
func (c *cluster) passive(card fakeCard, status int, took time.Duration, body []byte) (bool, error) {
	raw, _ := json.Marshal(map[string]any{"touser": card.ToUser, "card_type": card.CardType, "status": status,
		"took_ms": took.Milliseconds(), "body": string(body)})
	resp, err := c.hc.Post(c.fakeURL+"/passive", "application/json", bytes.NewReader(raw))
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	var out struct {
		Updated bool   `json:"updated"`
		Error   string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return false, fmt.Errorf("passive: status %d: %w", resp.StatusCode, err)
	}
	if out.Error != "" {
		return false, errors.New(out.Error)
	}
	return out.Updated, nil
}

func (c *cluster) responseCode() (string, error) {
	resp, err := c.hc.Post(c.fakeURL+"/response_code", "application/json", nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		ResponseCode string `json:"response_code"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", err
	}
	return out.ResponseCode, nil
}
