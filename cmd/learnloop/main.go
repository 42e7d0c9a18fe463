// Command learnloop runs the learnloop service and its operator commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/learnloop/learnloop/config"
)

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRoot(os.Stdout, os.Stderr, os.LookupEnv).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "learnloop:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError marks a bad command line.
type usageError struct{ error }

type globals struct {
	configPath string
	stdout     io.Writer
	stderr     io.Writer
	lookup     func(string) (string, bool)
}

func newRoot(stdout, stderr io.Writer, lookup func(string) (string, bool)) *cobra.Command {
	g := &globals{stdout: stdout, stderr: stderr, lookup: lookup}
	root := &cobra.Command{
		Use:           "learnloop",
		Short:         "Class reminders, one-tap check-in and feedback in DingTalk, WeCom and Feishu",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&g.configPath, "config", "", "config file (YAML); default $"+config.EnvConfigPath)
	root.AddCommand(
		serveCmd(g), demoCmd(g), migrateCmd(g), importCmd(g), reportCmd(g), sendNowCmd(g),
		doctorCmd(g), versionCmd(g), configCmd(g),
	)
	root.AddCommand(accountCmd(g))
	root.AddCommand(directoryCmd(g))
	root.AddCommand(campaignCmd(g))
	root.AddCommand(webhookCmd(g))
	root.AddCommand(digestCmd(g))
	return root
}

// load reads the configuration named by --config or LEARNLOOP_CONFIG.
func (g *globals) load() (*config.Config, error) {
	path := g.configPath
	if path == "" {
		if p, ok := g.lookup(config.EnvConfigPath); ok {
			path = p
		}
	}
	cfg, err := config.Load(path, g.lookup)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
}

func (g *globals) logger(cfg *config.Config) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(g.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(g.stderr, opts))
}

// argID reads the id argument arg, what it names (a usage error unless it
// is a positive integer).
func argID(arg, what string) (uint64, error) {
	id, err := strconv.ParseUint(arg, 10, 64)
	if err != nil || id == 0 {
		return 0, usageError{fmt.Errorf("%s %q is not a positive integer", what, arg)}
	}
	return id, nil
}

func versionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(g.stdout, "learnloop", Version)
			return err
		},
	}
}

func configCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "config",
		Short: "Print the effective configuration with secrets masked",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(g.stdout, cfg.Masked())
			return err
		},
	}
}
