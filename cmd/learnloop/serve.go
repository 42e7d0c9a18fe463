package main

import (
	"fmt"
	"net"

	"github.com/spf13/cobra"

	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/store"
)

func serveCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP server and the scheduler",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			log := g.logger(cfg)
			a, err := app.New(cmd.Context(), cfg, app.Options{Logger: log})
			if err != nil {
				return err
			}
			defer a.Close()
			if err := store.CheckCurrent(cmd.Context(), a.DB()); err != nil {
				return fmt.Errorf("%w (or set database.migrate_on_start)", err)
			}
			ln, err := net.Listen("tcp", cfg.HTTP.Addr)
			if err != nil {
				return fmt.Errorf("listen on http.addr: %w", err)
			}
			log.Info("learnloop serving", "addr", ln.Addr().String(), "public_url", cfg.HTTP.PublicURL, "console", a.URL("/console/"), "version", Version)
			if len(cfg.Security.AdminTokens) == 0 {
				log.Warn("security.admin_tokens is empty: /api/v1 refuses every request (the console and callbacks still work)")
			}
			return a.Serve(cmd.Context(), ln)
		},
	}
}

func migrateCmd(g *globals) *cobra.Command {
	var status bool
	c := &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			db, err := store.Open(cmd.Context(), cfg.Database.Driver, cfg.Database.DSN, store.Options{MaxOpenConns: 2})
			if err != nil {
				return err
			}
			defer store.Close(db)
			if status {
				v, err := store.CurrentVersion(cmd.Context(), db)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "schema version %d, latest %d\n", v, store.LatestVersion())
				return nil
			}
			applied, err := store.Migrate(cmd.Context(), db)
			if err != nil {
				return err
			}
			if len(applied) == 0 {
				fmt.Fprintf(g.stdout, "schema is current (version %d)\n", store.LatestVersion())
				return nil
			}
			fmt.Fprintf(g.stdout, "applied migrations %v; schema version %d\n", applied, store.LatestVersion())
			return nil
		},
	}
	c.Flags().BoolVar(&status, "status", false, "only print the current and latest schema version")
	return c
}
