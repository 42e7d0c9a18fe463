package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/store"
	"github.com/learnloop/learnloop/webhooks"
)

func webhookCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "webhook",
		Short: "Outbound webhooks: add, list, remove endpoints; their delivery log; redeliver",
	}
	c.AddCommand(webhookAddCmd(g), webhookListCmd(g), webhookRemoveCmd(g), webhookLogCmd(g), webhookRedeliverCmd(g))
	return c
}

func webhookAddCmd(g *globals) *cobra.Command {
	var events []string
	var description, secret string
	var disabled bool
	c := &cobra.Command{
		Use:   "add URL",
		Short: "Add an endpoint; prints its signing secret once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := webhooks.Input{URL: &args[0], Events: events, Description: &description}
			if secret != "" {
				in.Secret = &secret
			}
			if disabled {
				off := false
				in.Enabled = &off
			}
			return g.withApp(cmd, func(a *app.App) error {
				e, err := a.Webhooks().Create(cmd.Context(), in, "cli")
				if err != nil {
					return invalidText(err, "webhook")
				}
				fmt.Fprintf(g.stdout, "webhook %d: %s\nevents: %s\nsecret: %s\n(the secret is shown only now; receivers verify %s with it)\n",
					e.ID, e.URL, strings.Join(e.Events, ", "), e.Secret, webhooks.SignatureHeader)
				return nil
			})
		},
	}
	c.Flags().StringSliceVar(&events, "events", store.EventTypes(), "event types: "+strings.Join(store.EventTypes(), ", "))
	c.Flags().StringVar(&description, "description", "", "what the endpoint is (LMS, BI …)")
	c.Flags().StringVar(&secret, "secret", "", "your own signing secret (16–128 characters); default: generated")
	c.Flags().BoolVar(&disabled, "disabled", false, "add it switched off")
	return c
}

func webhookListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List endpoints", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withApp(cmd, func(a *app.App) error {
				es, err := a.Webhooks().List(cmd.Context(), 0, 1000)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tURL\tEVENTS\tENABLED\tDESCRIPTION")
				for _, e := range es {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%t\t%s\n", e.ID, e.URL, strings.Join(e.Events, ","), e.Enabled, e.Description)
				}
				return tw.Flush()
			})
		},
	}
}

func webhookRemoveCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "remove ID", Short: "Remove an endpoint with its delivery log", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withAppID(cmd, args[0], "webhook id", func(a *app.App, id uint64) error {
				if err := a.Webhooks().Delete(cmd.Context(), id, "cli"); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "webhook %d removed\n", id)
				return nil
			})
		},
	}
}

func webhookLogCmd(g *globals) *cobra.Command {
	var limit int
	c := &cobra.Command{
		Use: "log ID", Short: "An endpoint's deliveries, newest first, with each attempt", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := argID(args[0], "webhook id")
			if err != nil {
				return err
			}
			if limit < 1 || limit > 1000 {
				return usageError{fmt.Errorf("--limit must be from 1 to 1000")}
			}
			return g.withApp(cmd, func(a *app.App) error {
				ds, err := a.Webhooks().Deliveries(cmd.Context(), id, 0, limit)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "DELIVERY\tEVENT\tTYPE\tSTATUS\tATTEMPT\tAT\tCODE\tMS\tERROR")
				for _, d := range ds {
					if len(d.Log) == 0 {
						fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t-\t-\t-\t-\t\n", d.ID, d.EventID, d.EventType, d.Status)
					}
					for _, at := range d.Log {
						fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%d\t%d\t%s\n", d.ID, d.EventID, d.EventType, d.Status, at.Attempt,
							at.StartedAt.Format(time.RFC3339), at.StatusCode, at.LatencyMS, at.Error)
					}
				}
				return tw.Flush()
			})
		},
	}
	c.Flags().IntVar(&limit, "limit", 50, "deliveries to show")
	return c
}

func webhookRedeliverCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "redeliver ID DELIVERY_ID", Short: "Send a delivery again (same event id, fresh attempts)", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := argID(args[0], "webhook id")
			if err != nil {
				return err
			}
			did, err := argID(args[1], "delivery id")
			if err != nil {
				return err
			}
			return g.withApp(cmd, func(a *app.App) error {
				d, err := a.Webhooks().Redeliver(cmd.Context(), id, did, "cli")
				if err != nil {
					return invalidText(err, "webhook")
				}
				fmt.Fprintf(g.stdout, "delivery %d (%s) is %s; serve sends it on the dispatch job's next run\n", d.ID, d.EventID, d.Status)
				return nil
			})
		},
	}
}
