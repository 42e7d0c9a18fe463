package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/campaigns"
)

func campaignCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "campaign",
		Short: "Targeted pushes (定向推送): create, count the audience, pause/resume/cancel, report; the conversion webhook secret",
	}
	c.AddCommand(campaignListCmd(g), campaignCreateCmd(g), campaignUpdateCmd(g), campaignCountCmd(g), campaignReportCmd(g),
		campaignStateCmd(g, "pause"), campaignStateCmd(g, "resume"), campaignStateCmd(g, "cancel"), campaignSecretCmd(g), campaignSendTimeCmd(g))
	return c
}

// withApp runs f on an app over the configured database (no scheduler).
func (g *globals) withApp(cmd *cobra.Command, f func(a *app.App) error) error {
	cfg, err := g.load()
	if err != nil {
		return err
	}
	return withStore(cmd, cfg, f)
}

// withAppID runs f with the id argument arg (what names it; see argID) on
// the app, as withApp does.
func (g *globals) withAppID(cmd *cobra.Command, arg, what string, f func(a *app.App, id uint64) error) error {
	id, err := argID(arg, what)
	if err != nil {
		return err
	}
	return g.withApp(cmd, func(a *app.App) error { return f(a, id) })
}

func (g *globals) printJSON(v any) error {
	enc := json.NewEncoder(g.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// readJSONFile decodes a JSON file ("-" is stdin), refusing unknown fields.
func readJSONFile(path string, v any) error {
	f := os.Stdin
	if path != "-" {
		var err error
		if f, err = os.Open(path); err != nil {
			return err
		}
		defer f.Close()
	}
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return usageError{fmt.Errorf("%s: %w", path, err)}
	}
	return nil
}

func campaignListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List campaigns", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withApp(cmd, func(a *app.App) error {
				cs, err := a.Campaigns().List(cmd.Context(), 0, 1000)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tSTATUS\tSCHEDULE\tEVENT\tVARIANTS")
				for _, c := range cs {
					sched := c.Schedule.Kind
					if c.Schedule.Cron != "" {
						sched += " " + c.Schedule.Cron + " " + c.Schedule.TimeZone
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\n", c.ID, c.Name, c.Status, sched, c.Event, len(c.Variants))
				}
				return tw.Flush()
			})
		},
	}
}

func campaignCreateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "create FILE.json|-",
		Short: "Create and schedule a campaign from JSON (the body of POST /api/v1/campaigns)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var in campaigns.Input
			if err := readJSONFile(args[0], &in); err != nil {
				return err
			}
			return g.withApp(cmd, func(a *app.App) error {
				c, err := a.Campaigns().Create(cmd.Context(), in, "cli")
				if err != nil {
					return invalidText(err, "campaign")
				}
				return g.printJSON(c)
			})
		},
	}
}

func campaignUpdateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "update ID FILE.json|-",
		Short: "Replace a campaign that has sent nothing yet from JSON (the body of PUT /api/v1/campaigns/{id}) and re-plan it",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := argID(args[0], "campaign id")
			if err != nil {
				return err
			}
			var in campaigns.Input
			if err := readJSONFile(args[1], &in); err != nil {
				return err
			}
			return g.withApp(cmd, func(a *app.App) error {
				c, err := a.Campaigns().Update(cmd.Context(), id, in, "cli")
				if err != nil {
					return invalidText(err, "campaign")
				}
				return g.printJSON(c)
			})
		},
	}
}

func campaignCountCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "count ID|AUDIENCE.json",
		Short: "Count a campaign's audience (or an audience in a JSON file) now",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withApp(cmd, func(a *app.App) error {
				var aud campaigns.Audience
				if id, err := strconv.ParseUint(args[0], 10, 64); err == nil {
					c, err := a.Campaigns().Get(cmd.Context(), id)
					if err != nil {
						return err
					}
					aud = c.Audience
				} else if err := readJSONFile(args[0], &aud); err != nil {
					return err
				}
				n, err := a.Campaigns().Count(cmd.Context(), aud)
				if err != nil {
					return invalidText(err, "campaign")
				}
				fmt.Fprintln(g.stdout, n)
				return nil
			})
		},
	}
}

func campaignReportCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "report ID", Short: "Print a campaign's report as JSON (funnel, variants, breakdowns, experiment, definitions)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withAppID(cmd, args[0], "campaign id", func(a *app.App, id uint64) error {
				r, err := a.Campaigns().Report(cmd.Context(), id, campaigns.ReportOptions{})
				if err != nil {
					return err
				}
				return g.printJSON(r)
			})
		},
	}
}

func campaignStateCmd(g *globals, op string) *cobra.Command {
	return &cobra.Command{
		Use: op + " ID", Short: map[string]string{"pause": "Pause a scheduled campaign", "resume": "Resume a paused campaign",
			"cancel": "Cancel a campaign for good"}[op], Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withAppID(cmd, args[0], "campaign id", func(a *app.App, id uint64) error {
				var (
					c   campaigns.Campaign
					err error
				)
				switch op {
				case "pause", "resume":
					c, err = a.Campaigns().SetPaused(cmd.Context(), id, op == "pause", "cli")
				default:
					c, err = a.Campaigns().Cancel(cmd.Context(), id, "cli")
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "campaign %d %s\n", c.ID, c.Status)
				return nil
			})
		},
	}
}

func campaignSecretCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "webhook-secret",
		Short: "Print the secret outside systems sign POST /webhooks/conversions with (derived from security.link_secret)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withApp(cmd, func(a *app.App) error {
				fmt.Fprintln(g.stdout, a.Campaigns().WebhookSecret())
				return nil
			})
		},
	}
}

func campaignSendTimeCmd(g *globals) *cobra.Command {
	var dept, platform, zone string
	c := &cobra.Command{
		Use:   "send-time",
		Short: "Print the learned send time's evidence: each hour's quick-open rate with its n, and the best hour",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var loc *time.Location
			if zone != "" {
				l, err := time.LoadLocation(zone)
				if err != nil || zone == "Local" {
					return usageError{fmt.Errorf("--time-zone %q is not an IANA time zone", zone)}
				}
				loc = l
			}
			return g.withApp(cmd, func(a *app.App) error {
				if loc == nil {
					loc = a.Campaigns().Location
				}
				est, err := a.Campaigns().EstimateSendTime(cmd.Context(), campaigns.SendTimeQuery{Department: dept, Platform: platform, Location: loc})
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "HOUR (%s)\tSENT (n)\tOPENED ≤%d MIN\tQUICK-OPEN %%\tMEDIAN MIN\tCOMPARED\n", est.TimeZone, est.OpenWithinMinutes)
				for _, h := range est.Hours {
					if h.Sent == 0 {
						continue
					}
					rate, med := "-", "-"
					if h.QuickOpen != nil {
						rate = strconv.FormatFloat(*h.QuickOpen, 'f', 1, 64)
					}
					if h.MedianMinutes != nil {
						med = strconv.FormatFloat(*h.MedianMinutes, 'f', 1, 64)
					}
					fmt.Fprintf(tw, "%02d\t%d\t%d\t%s\t%s\t%t\n", h.Hour, h.Sent, h.Opened, rate, med, h.Enough)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				if est.Best == nil {
					fmt.Fprintf(g.stdout, "n = %d: fewer than two hours with %d sent; campaigns keep their configured time\n", est.N, est.MinPerHour)
				} else {
					fmt.Fprintf(g.stdout, "n = %d: best hour %02d:00\n", est.N, *est.Best)
				}
				return nil
			})
		},
	}
	c.Flags().StringVar(&dept, "department", "", "the department (and those below it)")
	c.Flags().StringVar(&platform, "platform", "", "wecom, feishu, dingtalk or simulator")
	c.Flags().StringVar(&zone, "time-zone", "", "IANA zone the hours are read in (default: the configured timezone)")
	return c
}
