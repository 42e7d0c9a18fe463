// Command fakewecom is a fake WeCom (企业微信) API server for learnloop's
// chaos suite: a separate process that checks what the real API checks for
// the calls learnloop makes (gettoken, message/send with template cards,
// update_template_card, agent/get), counts every card it accepted per
// recipient and per task_id, and switches fault modes at run time.
//
//	fakewecom -addr 127.0.0.1:0 -corp-id ww1 -secret s -agent-id 1000002 [-members FILE] [-hold 3s] [-token T -aes-key K]
//
// When ready it prints "fakewecom listening on http://HOST:PORT" on stdout.
//
// Control and inspection (not part of WeCom's API):
//
//	POST /control mode=ok|slow|503|timeout|ratelimit [latency=15ms] [hold=3s] [for=2s]
//	GET  /control            the fault state
//	GET  /stats [?users=0]   accepted per touser, duplicates, rejections (JSON)
//	GET  /cards?offset=&limit=  accepted cards in order, with their callback keys
//	POST /response_code      a fresh response_code, as WeCom puts in each card callback
//	POST /passive            a card callback's answer, read as WeCom reads it (needs -token and -aes-key)
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "fakewecom:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("fakewecom", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	corpID := fs.String("corp-id", "", "the corp's CorpID (required)")
	secret := fs.String("secret", "", "the app's Secret (required)")
	agentID := fs.Int64("agent-id", 1000002, "the app's AgentId")
	members := fs.String("members", "", "file with one member userid per line (default: every well-formed userid is a member)")
	hold := fs.Duration("hold", 3*time.Second, "how long mode timeout holds a request before accepting it")
	token := fs.String("token", "", "the app's callback Token (to read passive answers)")
	aesKey := fs.String("aes-key", "", "the app's callback EncodingAESKey (to read passive answers)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *corpID == "" || *secret == "" {
		return errors.New("-corp-id and -secret are required")
	}
	if *agentID <= 0 {
		return fmt.Errorf("-agent-id must be positive, got %d", *agentID)
	}
	if (*token == "") != (*aesKey == "") || (*aesKey != "" && len(*aesKey) != 43) {
		return errors.New("-token and -aes-key go together; the EncodingAESKey has 43 characters")
	}
	cfg := Config{CorpID: *corpID, Secret: *secret, AgentID: *agentID, Hold: *hold, Token: *token, EncodingAESKey: *aesKey}
	if *members != "" {
		ids, err := readMembers(*members)
		if err != nil {
			return err
		}
		cfg.Members = ids
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: New(cfg), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	fmt.Printf("fakewecom listening on http://%s\n", ln.Addr())
	slog.Info("fakewecom ready", "addr", ln.Addr().String(), "members", len(cfg.Members), "hold", cfg.Hold)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func readMembers(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	defer f.Close()
	var ids []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if id := strings.TrimSpace(sc.Text()); id != "" {
			ids = append(ids, id)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	return ids, nil
}
