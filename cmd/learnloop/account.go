package main

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/config"
	"github.com/learnloop/learnloop/console/accounts"
	"github.com/learnloop/learnloop/store"
)

// accountCmd manages coordinator console accounts; "account create --role
// admin" makes the first admin, who then manages the others in the console.
func accountCmd(g *globals) *cobra.Command {
	root := &cobra.Command{Use: "account", Short: "Manage coordinator console accounts (create the first admin here)"}
	var username, role, dept, name, pwFile string
	create := &cobra.Command{
		Use:   "create --username NAME --role admin|coordinator|department_head [--department D] [--password-file F]",
		Short: "Create a console account; the password comes from --password-file or is asked on stdin",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if username == "" {
				return usageError{errors.New("--username is required")}
			}
			if role == "" {
				return usageError{fmt.Errorf("--role is required (%s)", strings.Join(store.Roles, ", "))}
			}
			cfg, err := g.loadForAccounts()
			if err != nil {
				return err
			}
			password, err := readPassword(cmd, g, pwFile)
			if err != nil {
				return err
			}
			return withStore(cmd, cfg, func(a *app.App) error {
				acc, err := accounts.Create(cmd.Context(), a.DB(), accounts.NewAccount{
					Username: strings.ToLower(strings.TrimSpace(username)), DisplayName: name, Role: role, Department: dept, Password: password,
				}, "cli", time.Now())
				if errors.Is(err, accounts.ErrInvalidAccount) || errors.Is(err, accounts.ErrAccountExists) {
					return usageError{err}
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "created %s account %q; sign in at %s/console/\n", acc.Role, acc.Username, strings.TrimRight(cfg.HTTP.PublicURL, "/"))
				return nil
			})
		},
	}
	create.Flags().StringVar(&username, "username", "", "login name: 2–64 lower-case letters, digits or ._-")
	create.Flags().StringVar(&role, "role", "", "admin, coordinator or department_head")
	create.Flags().StringVar(&dept, "department", "", "the department a department_head may read (as in the roster)")
	create.Flags().StringVar(&name, "display-name", "", "name shown in the console")
	create.Flags().StringVar(&pwFile, "password-file", "", "read the password from this file (first line); default: ask on stdin")

	list := &cobra.Command{
		Use:   "list",
		Short: "List console accounts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.loadForAccounts()
			if err != nil {
				return err
			}
			return withStore(cmd, cfg, func(a *app.App) error {
				var as []store.Account
				if err := a.DB().WithContext(cmd.Context()).Order("username").Find(&as).Error; err != nil {
					return fmt.Errorf("list accounts: %w", err)
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "USERNAME\tROLE\tDEPARTMENT\tDISPLAY NAME\tDISABLED\tLAST SIGN-IN")
				loc := cfg.Location()
				for _, x := range as {
					last := "-"
					if x.LastLoginAt != nil {
						last = x.LastLoginAt.In(loc).Format("2006-01-02 15:04")
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%s\n", x.Username, x.Role, dash(x.Department), dash(x.DisplayName), x.Disabled, last)
				}
				return tw.Flush()
			})
		},
	}
	root.AddCommand(create, list)
	return root
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// readPassword reads the password from file, or asks twice on stdin (with
// echo off when stdin is a terminal).
func readPassword(cmd *cobra.Command, g *globals, file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--password-file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		return strings.TrimSuffix(line, "\r"), nil
	}
	in := cmd.InOrStdin()
	restore := noEcho(in)
	defer restore()
	r := bufio.NewReader(in)
	ask := func(prompt string) (string, error) {
		fmt.Fprint(g.stderr, prompt)
		s, err := r.ReadString('\n')
		fmt.Fprintln(g.stderr)
		if err != nil && (!errors.Is(err, io.EOF) || s == "") {
			return "", fmt.Errorf("read password from stdin: %w", err)
		}
		return strings.TrimRight(s, "\r\n"), nil
	}
	p1, err := ask("Password: ")
	if err != nil {
		return "", err
	}
	if err := accounts.CheckPassword(p1); err != nil {
		return "", usageError{err}
	}
	p2, err := ask("Password again: ")
	if err != nil {
		return "", err
	}
	if p1 != p2 {
		return "", usageError{errors.New("the two passwords differ")}
	}
	return p1, nil
}

// noEcho turns terminal echo off while a password is typed, when stdin is
// a terminal and stty exists; it returns the function that turns it on.
func noEcho(in io.Reader) func() {
	f, ok := in.(*os.File)
	if !ok {
		return func() {}
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return func() {}
	}
	stty := func(arg string) error {
		c := exec.Command("stty", arg)
		c.Stdin = f
		return c.Run()
	}
	if stty("-echo") != nil {
		return func() {}
	}
	return func() { _ = stty("echo") }
}

// loadForAccounts loads the configuration for the account commands, which
// sign no link: a missing security.link_secret (the demo's database, a
// console-only setup) is not an error for them, every other problem is. The
// secret they run with is random and used for nothing.
func (g *globals) loadForAccounts() (*config.Config, error) {
	path := g.configPath
	if path == "" {
		if p, ok := g.lookup(config.EnvConfigPath); ok {
			path = p
		}
	}
	cfg, err := config.Load(path, g.lookup)
	if err == nil {
		return cfg, nil
	}
	if cfg == nil || !onlyKey(err, "security.link_secret") {
		return nil, fmt.Errorf("config: %w", err)
	}
	b := make([]byte, 32)
	if _, rerr := rand.Read(b); rerr != nil {
		return nil, rerr
	}
	cfg.Security.LinkSecret = config.Secret(hex.EncodeToString(b))
	if verr := cfg.Validate(); verr != nil {
		return nil, fmt.Errorf("config: %w", verr)
	}
	return cfg, nil
}

// onlyKey reports whether every problem joined in err is a
// *config.FieldError of key.
func onlyKey(err error, key string) bool {
	var walk func(error) bool
	seen := 0
	walk = func(e error) bool {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				if !walk(x) {
					return false
				}
			}
			return true
		}
		if fe, ok := e.(*config.FieldError); ok {
			seen++
			return fe.Key == key
		}
		if u, ok := e.(interface{ Unwrap() error }); ok && u.Unwrap() != nil {
			return walk(u.Unwrap())
		}
		return false
	}
	return walk(err) && seen > 0
}
