package main

import (
	"cmp"
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/digests"
	"github.com/learnloop/learnloop/text"
)

// digestCLI is the CLI's actor: it may manage every account's digests.
var digestCLI = digests.Actor{Username: "cli"}

func digestCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "digest",
		Short: "Digest cards in chat: subscribe an account, list, preview, send once, remove",
	}
	c.AddCommand(digestSubscribeCmd(g), digestListCmd(g), digestPreviewCmd(g), digestSendCmd(g), digestRemoveCmd(g))
	return c
}

func digestSubscribeCmd(g *globals) *cobra.Command {
	var in digests.Input
	c := &cobra.Command{
		Use:   "subscribe ACCOUNT --frequency weekly|monthly|cron [--cron SPEC] [--employee 工号] [--time-zone Z] [--platform P]",
		Short: "Subscribe a console account to a digest card (weekly: Mondays 09:00; monthly: the 1st, 09:00)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in.Account = args[0]
			return g.withApp(cmd, func(a *app.App) error {
				d, err := a.Digests().Create(cmd.Context(), in, digestCLI)
				if err != nil {
					return invalidText(err, "digest subscription")
				}
				fmt.Fprintf(g.stdout, "digest %d: %s (%s, employee %s) %s %q in %s", d.ID, d.Account, d.Role, d.Employee, d.Frequency, d.Cron, d.TimeZone)
				if d.NextAt != nil {
					fmt.Fprintf(g.stdout, "; next card %s", d.NextAt.Format(time.RFC3339))
				}
				fmt.Fprintln(g.stdout)
				return nil
			})
		},
	}
	c.Flags().StringVar(&in.Frequency, "frequency", "weekly", "weekly, monthly or cron")
	c.Flags().StringVar(&in.Cron, "cron", "", "the schedule of --frequency cron (minute hour day month weekday)")
	c.Flags().StringVar(&in.Employee, "employee", "", "工号 of the account's own employee (links the account; needed once)")
	c.Flags().StringVar(&in.TimeZone, "time-zone", "", "IANA zone of the schedule; default the configured one")
	c.Flags().StringVar(&in.Platform, "platform", "", "chat app; default the employee's own")
	c.Flags().StringVar(&in.Locale, "locale", "", "card language: zh-CN or en; default the account's")
	return c
}

func digestListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List digest subscriptions with their next and last card", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withApp(cmd, func(a *app.App) error {
				ds, err := a.Digests().List(cmd.Context(), digestCLI, 0, 1000)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tACCOUNT\tROLE\tEMPLOYEE\tFREQUENCY\tCRON\tZONE\tPLATFORM\tNEXT\tLAST")
				for _, d := range ds {
					next, last := "-", "-"
					if d.NextAt != nil {
						next = d.NextAt.Format(time.RFC3339)
					}
					if d.Last != nil {
						last = d.Last.Status
						if d.Last.ErrorCode != "" {
							last += " " + d.Last.ErrorCode + " " + d.Last.ErrorMessage
						}
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.Account, d.Role, d.Employee, d.Frequency, d.Cron, d.TimeZone,
						cmp.Or(d.Platform, "-"), next, last)
				}
				return tw.Flush()
			})
		},
	}
}

func digestPreviewCmd(g *globals) *cobra.Command {
	var lang string
	c := &cobra.Command{
		Use: "preview ID", Short: "Print the card a digest sent now would be (the last complete period); nothing is sent", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withAppID(cmd, args[0], "digest id", func(a *app.App, id uint64) error {
				d, err := a.Digests().Get(cmd.Context(), id, digestCLI)
				if err != nil {
					return err
				}
				rep, err := a.Digests().Preview(cmd.Context(), id, digestCLI)
				if err != nil {
					return err
				}
				zone, err := time.LoadLocation(d.TimeZone)
				if err != nil {
					return fmt.Errorf("digest %d zone: %w", id, err)
				}
				loc := text.Parse(cmp.Or(lang, d.Locale))
				m := digests.Card(rep, digests.CardInput{Locale: loc, Zone: zone, Frequency: d.Frequency, ConsoleURL: a.URL("/console/")})
				fmt.Fprintln(g.stdout, m.Fallback)
				return nil
			})
		},
	}
	c.Flags().StringVar(&lang, "lang", "", "zh-CN or en; default the subscription's")
	return c
}

func digestSendCmd(g *globals) *cobra.Command {
	var run bool
	c := &cobra.Command{
		Use: "send ID", Short: "Send the digest once now, marked as a test (a running serve sends it; --run sends from this process)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withAppID(cmd, args[0], "digest id", func(a *app.App, id uint64) error {
				job, err := a.Digests().SendTest(cmd.Context(), id, digestCLI)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "digest %d queued as job %d\n", id, job)
				if !run {
					return nil
				}
				ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
				defer cancel()
				if _, err := a.Sched().RunDue(ctx); err != nil {
					return err
				}
				d, err := a.Digests().Get(ctx, id, digestCLI)
				if err != nil {
					return err
				}
				if d.Last == nil {
					fmt.Fprintln(g.stdout, "nothing was sent (the account is disabled or its employee inactive)")
					return nil
				}
				fmt.Fprintf(g.stdout, "card %s on %s", d.Last.Status, d.Last.Platform)
				if d.Last.ErrorCode != "" {
					fmt.Fprintf(g.stdout, ": %s %s", d.Last.ErrorCode, d.Last.ErrorMessage)
				}
				fmt.Fprintln(g.stdout)
				return nil
			})
		},
	}
	c.Flags().BoolVar(&run, "run", false, "send from this process instead of waiting for serve")
	return c
}

func digestRemoveCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "remove ID", Short: "Unsubscribe (the cards already sent stay in the delivery log)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withAppID(cmd, args[0], "digest id", func(a *app.App, id uint64) error {
				if err := a.Digests().Delete(cmd.Context(), id, digestCLI); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "digest %d removed\n", id)
				return nil
			})
		},
	}
}
