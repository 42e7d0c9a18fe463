package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/config"
	"github.com/learnloop/learnloop/reports"
	"github.com/learnloop/learnloop/roster"
	"github.com/learnloop/learnloop/store"
)

// withStore runs f on an app over cfg's database, without a scheduler and
// never changing the schema (a database behind the binary's migrations is
// refused), and closes the app afterwards.
func withStore(cmd *cobra.Command, cfg *config.Config, f func(a *app.App) error) error {
	cfg.Scheduler.Enabled = false
	cfg.Database.MigrateOnStart = false // operator commands never change the schema
	a, err := app.New(cmd.Context(), cfg, app.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := store.CheckCurrent(cmd.Context(), a.DB()); err != nil {
		return err
	}
	return f(a)
}

func importCmd(g *globals) *cobra.Command {
	var sessionID uint64
	c := &cobra.Command{
		Use:   "import FILE.csv|FILE.xlsx",
		Short: "Import a roster; with --session, enroll everyone in that session. Any bad row: nothing is imported",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			var rows []roster.Row
			switch strings.ToLower(filepath.Ext(args[0])) {
			case ".xlsx":
				rows, err = roster.ParseXLSX(f)
			case ".csv", ".txt":
				rows, err = roster.ParseCSV(f)
			default:
				return usageError{fmt.Errorf("%s: want a .csv or .xlsx file", args[0])}
			}
			var ve *roster.ValidationError
			if errors.As(err, &ve) {
				fmt.Fprintf(g.stderr, "%s: %d bad row(s); nothing was imported\n", args[0], len(ve.Rows))
				for _, r := range ve.Rows {
					fmt.Fprintf(g.stderr, "  %s\n", r.Error())
				}
				return fmt.Errorf("roster rejected")
			}
			if err != nil {
				return err
			}
			return withStore(cmd, cfg, func(a *app.App) error {
				// The CLI runs with the database's credentials: it acts as an admin.
				res, err := roster.Import(cmd.Context(), a.DB(), roster.AsAdmin(), sessionID, rows)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "imported %d employees; %d newly enrolled\n", res.Employees, res.Enrolled)
				return nil
			})
		},
	}
	c.Flags().Uint64Var(&sessionID, "session", 0, "session id to enroll the roster in")
	return c
}

// report is what every report command prints: a JSON value with text,
// CSV and XLSX renderings.
type report interface {
	text(w io.Writer, lang string) error
	csv(w io.Writer) error
	xlsx(w io.Writer) error
}

type sessionReport struct{ *reports.SessionReport }

func (r sessionReport) text(w io.Writer, lang string) error { return r.WriteTable(w, lang) }
func (r sessionReport) csv(w io.Writer) error               { return r.WriteCSV(w) }
func (r sessionReport) xlsx(w io.Writer) error              { return r.WriteXLSX(w) }
func (r sessionReport) MarshalJSON() ([]byte, error)        { return json.Marshal(r.SessionReport) }

type tableReport struct{ reports.Tabular }

func (r tableReport) text(w io.Writer, _ string) error { return reports.WriteTablesText(w, r.Tables()) }
func (r tableReport) csv(w io.Writer) error            { return reports.WriteTablesCSV(w, r.Tables()) }
func (r tableReport) xlsx(w io.Writer) error           { return reports.WriteTablesXLSX(w, r.Tables()) }
func (r tableReport) MarshalJSON() ([]byte, error)     { return json.Marshal(r.Tabular) }

// reportSubcommand builds a `report X [ID]` command: it parses the id,
// opens the store, builds the report and writes it in the chosen format.
func reportSubcommand(g *globals, use, short string, needID bool, build func(cmd *cobra.Command, a *app.App, id uint64) (report, error)) *cobra.Command {
	var format, lang, out string
	args := cobra.NoArgs
	if needID {
		args = cobra.ExactArgs(1)
	}
	c := &cobra.Command{
		Use: use, Short: short, Args: args,
		RunE: func(cmd *cobra.Command, argv []string) error {
			var id uint64
			if needID {
				var err error
				if id, err = argID(argv[0], "id"); err != nil {
					return err
				}
			}
			switch format {
			case "table", "csv", "json":
			case "xlsx":
				if out == "" {
					return usageError{errors.New("--format xlsx needs --out FILE.xlsx")}
				}
			default:
				return usageError{fmt.Errorf("--format %q: want table, csv, json or xlsx", format)}
			}
			cfg, err := g.load()
			if err != nil {
				return err
			}
			if lang == "" {
				lang = cfg.Locale
			}
			return withStore(cmd, cfg, func(a *app.App) error {
				rep, err := build(cmd, a, id)
				if err != nil {
					return err
				}
				w := g.stdout
				if out != "" {
					f, err := os.Create(out)
					if err != nil {
						return err
					}
					defer f.Close()
					w = f
				}
				switch format {
				case "csv":
					return rep.csv(w)
				case "json":
					enc := json.NewEncoder(w)
					enc.SetIndent("", "  ")
					return enc.Encode(rep)
				case "xlsx":
					return rep.xlsx(w)
				}
				return rep.text(w, lang)
			})
		},
	}
	c.Flags().StringVar(&format, "format", "table", "table, csv, json or xlsx")
	c.Flags().StringVar(&lang, "lang", "", "zh-CN or en for text tables (default: config locale)")
	c.Flags().StringVarP(&out, "out", "o", "", "write to this file instead of stdout")
	return c
}

func reportCmd(g *globals) *cobra.Command {
	root := &cobra.Command{Use: "report", Short: "Print reports"}
	var year int
	teachers := reportSubcommand(g, "teachers", "Teacher certification: ≥3 sessions a year, ≥30 learners each, each rated ≥4.5", false,
		func(cmd *cobra.Command, a *app.App, _ uint64) (report, error) {
			y := year
			if y == 0 {
				y = time.Now().In(a.Cfg().Location()).Year()
			}
			r, err := reports.Teachers(cmd.Context(), a.DB(), y, a.Cfg().Location(), time.Now())
			return tableReport{r}, err
		})
	teachers.Flags().IntVar(&year, "year", 0, "calendar year (default: this year)")
	root.AddCommand(
		reportSubcommand(g, "session ID", "Session report: roster, deliveries, clicks, check-ins and the check-in rate", true,
			func(cmd *cobra.Command, a *app.App, id uint64) (report, error) {
				r, err := a.Commands().Reports().Session(cmd.Context(), id, time.Now())
				return sessionReport{r}, err
			}),
		reportSubcommand(g, "survey ID", "Survey report: response rate, CSAT per dimension, NPS with margin of error, behaviour change, comments", true,
			func(cmd *cobra.Command, a *app.App, id uint64) (report, error) {
				r, err := reports.Survey(cmd.Context(), a.DB(), id, time.Now())
				return tableReport{r}, err
			}),
		reportSubcommand(g, "course ID", "Course report: every session's check-in rate (flagged below 50%), feedback and NPS, and pooled figures", true,
			func(cmd *cobra.Command, a *app.App, id uint64) (report, error) {
				r, err := reports.Course(cmd.Context(), a.DB(), id, time.Now())
				return tableReport{r}, err
			}),
		teachers,
	)
	return root
}

func sendNowCmd(g *globals) *cobra.Command {
	var run bool
	c := &cobra.Command{
		Use:   "send-now TOUCHPOINT_ID",
		Short: "Fire a touchpoint now (a running serve picks it up; --run sends from this process)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withAppID(cmd, args[0], "touchpoint id", func(a *app.App, id uint64) error {
				job, err := commands(a).SendNow(cmd.Context(), cliActor, id, nil)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "touchpoint %d queued as job %d\n", id, job.ID)
				if !run {
					return nil
				}
				ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Minute)
				defer cancel()
				n, err := a.Sched().RunDue(ctx)
				if err != nil {
					return err
				}
				var counts []struct {
					Status string
					N      int
				}
				a.DB().WithContext(ctx).Model(&store.Delivery{}).Select("status, COUNT(*) AS n").Where("touchpoint_id = ?", id).Group("status").Scan(&counts)
				fmt.Fprintf(g.stdout, "ran %d job(s); deliveries:", n)
				for _, c := range counts {
					fmt.Fprintf(g.stdout, " %s=%d", c.Status, c.N)
				}
				fmt.Fprintln(g.stdout)
				return nil
			})
		},
	}
	c.Flags().BoolVar(&run, "run", false, "run due jobs in this process instead of leaving them to serve")
	return c
}

// Doctor is implemented by adapters that can check their credentials.
type Doctor interface {
	Doctor(ctx context.Context) error
}

// DoctorNotes is implemented by adapters that say which mode they run in
// and what doctor cannot check for them.
type DoctorNotes interface {
	DoctorNotes() []string
}

func doctorCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check the configuration, the database and each platform's credentials",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			failed := 0
			report := func(name string, err error) {
				if err != nil {
					failed++
					fmt.Fprintf(g.stdout, "✗ %-22s %v\n", name, err)
					return
				}
				fmt.Fprintf(g.stdout, "✓ %s\n", name)
			}
			cfg, err := g.load()
			report("config", err)
			if cfg == nil {
				return errors.New("doctor found problems")
			}
			fmt.Fprintf(g.stdout, "  database.driver=%s http.public_url=%s timezone=%s default_platform=%s simulator=%t\n",
				cfg.Database.Driver, cfg.HTTP.PublicURL, cfg.Timezone, cfg.DefaultPlatform(), cfg.SimulatorEnabled())
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			db, err := store.Open(ctx, cfg.Database.Driver, cfg.Database.DSN, store.Options{MaxOpenConns: 2})
			report("database reachable", err)
			if err == nil {
				report("migrations current", store.CheckCurrent(ctx, db))
				store.Close(db)
			}
			if err == nil {
				cfg.Scheduler.Enabled = false
				cfg.Database.MigrateOnStart = false
				if a, aerr := app.New(ctx, cfg, app.Options{Logger: slog.New(slog.DiscardHandler)}); aerr == nil {
					for p, m := range a.Messengers() {
						if d, ok := m.(Doctor); ok {
							report("platform "+string(p), d.Doctor(ctx))
						} else {
							report("platform "+string(p), nil)
						}
						if n, ok := m.(DoctorNotes); ok {
							for _, line := range n.DoctorNotes() {
								fmt.Fprintf(g.stdout, "  %s\n", line)
							}
						}
					}
					report("calendar invites", calendarHealth(ctx, a))
					a.Close()
				} else {
					report("wiring", aerr)
				}
			}
			if failed > 0 {
				return fmt.Errorf("doctor found %d problem(s)", failed)
			}
			return nil
		},
	}
}

// calendarHealth is doctor's calendar line: an error naming the failing
// sessions' events (the platform's code and message), nil when none fail.
func calendarHealth(ctx context.Context, a *app.App) error {
	rows, err := a.Calendar().Failing(ctx, 5)
	if err != nil || len(rows) == 0 {
		return err
	}
	parts := make([]string, 0, len(rows))
	for _, r := range rows {
		parts = append(parts, fmt.Sprintf("session %d on %s: %s %s", r.SessionID, r.Platform, r.ErrorCode, r.LastError))
	}
	return fmt.Errorf("events failing (see the session's delivery health): %s", strings.Join(parts, "; "))
}
