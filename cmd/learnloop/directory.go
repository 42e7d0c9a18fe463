package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/learnloop/learnloop/app"
	"github.com/learnloop/learnloop/directory"
	"github.com/learnloop/learnloop/store"
)

func directoryCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "directory",
		Short: "Sync employees, departments and managers from the platforms' directories (通讯录)",
	}
	c.AddCommand(directorySyncCmd(g), directoryConflictsCmd(g), directoryResolveCmd(g))
	return c
}

func directorySyncCmd(g *globals) *cobra.Command {
	var platform string
	var dryRun, allowMass, asJSON bool
	c := &cobra.Command{
		Use:   "sync",
		Short: "Read each configured platform's directory and update employees; --dry-run shows what would change",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withApp(cmd, func(a *app.App) error {
				srcs, order := a.DirectorySources()
				if platform != "" {
					if !slices.Contains(directory.Platforms, platform) {
						return usageError{fmt.Errorf("--platform %q: want wecom, feishu or dingtalk", platform)}
					}
					if srcs[platform] == nil {
						return fmt.Errorf("platform %s is not enabled (platforms.%s.enabled)", platform, platform)
					}
					order = []string{platform}
				}
				if len(order) == 0 {
					return errors.New("no directory to sync: enable platforms.wecom, platforms.feishu or platforms.dingtalk")
				}
				s := a.DirectorySyncer(order)
				var reps []directory.Report
				var errs []error
				for _, p := range order {
					rep, err := s.Sync(cmd.Context(), srcs[p], directory.RunOptions{DryRun: dryRun, Trigger: "cli", AllowMassDeactivation: allowMass})
					reps = append(reps, rep)
					if err != nil {
						errs = append(errs, fmt.Errorf("%s: %w", p, err))
					}
				}
				if asJSON {
					enc := json.NewEncoder(g.stdout)
					enc.SetIndent("", "  ")
					if err := enc.Encode(reps); err != nil {
						return err
					}
					return errors.Join(errs...)
				}
				for _, r := range reps {
					verb := "synced"
					if r.DryRun {
						verb = "dry run (nothing written)"
					}
					fmt.Fprintf(g.stdout, "%s %s: %s — %d departments, %d people; %d created, %d linked, %d updated, %d deactivated, %d conflicts, %d failures\n",
						r.Platform, verb, r.Status, r.Departments, r.People, r.Created, r.Linked, r.Updated, r.Deactivated, r.Conflicts, r.Failures)
					for _, ch := range r.Changes {
						fmt.Fprintf(g.stdout, "  %-11s %-24s %s\n", ch.Kind, ch.Subject, ch.Detail)
					}
				}
				return errors.Join(errs...)
			})
		},
	}
	c.Flags().StringVar(&platform, "platform", "", "sync only this platform (wecom, feishu, dingtalk)")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "report what would change and write nothing")
	c.Flags().BoolVar(&allowMass, "allow-mass-deactivation", false, "deactivate even more than directory.max_deactivate_percent of a platform's members")
	c.Flags().BoolVar(&asJSON, "json", false, "print the reports as JSON")
	return c
}

func directoryConflictsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "conflicts",
		Short: "List directory members that match several employees (or one already linked elsewhere)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withApp(cmd, func(a *app.App) error {
				var cs []store.DirectoryConflict
				if err := a.DB().WithContext(cmd.Context()).Where("status = ?", store.ConflictOpen).Order("platform, user_id").Find(&cs).Error; err != nil {
					return fmt.Errorf("read conflicts: %w", err)
				}
				if len(cs) == 0 {
					fmt.Fprintln(g.stdout, "no open conflicts")
					return nil
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "PLATFORM\tUSER\tNAME\tBY\tCANDIDATES")
				for _, c := range cs {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Platform, c.UserID, c.Name, c.Rule, c.Candidates)
				}
				return tw.Flush()
			})
		},
	}
}

func directoryResolveCmd(g *globals) *cobra.Command {
	var platform, user, employee string
	var asNew bool
	c := &cobra.Command{
		Use:   "resolve --platform P --user ID (--employee EXTERNAL_ID | --new)",
		Short: "Decide a conflict: the member is this employee, or a new one; the next sync links them",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if platform == "" || user == "" || (employee == "") == !asNew {
				return usageError{errors.New("want --platform, --user and exactly one of --employee or --new")}
			}
			return g.withApp(cmd, func(a *app.App) error {
				if err := directory.ResolveConflict(cmd.Context(), a.DB(), platform, user, employee, "cli", a.Now); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "resolved %s member %s; run `learnloop directory sync --platform %s` to apply it\n", platform, user, platform)
				return nil
			})
		},
	}
	c.Flags().StringVar(&platform, "platform", "", "wecom, feishu or dingtalk")
	c.Flags().StringVar(&user, "user", "", "the member's platform user id")
	c.Flags().StringVar(&employee, "employee", "", "the employee's external id (工号)")
	c.Flags().BoolVar(&asNew, "new", false, "the member is nobody known yet: create an employee")
	return c
}
