package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/advertisex/adlake/config"
	"github.com/advertisex/adlake/jobs/maintain"
	"github.com/advertisex/adlake/lake/objstore"
	"github.com/advertisex/adlake/lake/runs"
	"github.com/advertisex/adlake/schema"
)

func compactCommand(e *env) *cobra.Command {
	var from, to string
	return command(e, describe("compact", "rewrite the small files of silver partitions into large ones"), []string{config.GroupLake},
		func(fs *pflag.FlagSet) {
			fs.StringVar(&from, "from", time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly), "first event date (YYYY-MM-DD), default yesterday")
			fs.StringVar(&to, "to", "", "last event date (YYYY-MM-DD), default --from")
		},
		func(ctx context.Context, _ []string) error {
			d1, d2, err := dateRange(from, to)
			if err != nil {
				return err
			}
			cat, err := e.catalog(ctx)
			if err != nil {
				return err
			}
			runID := runs.NewID(schema.JobCompact)
			for _, t := range schema.Silver() {
				res, err := maintain.Compact(ctx, committer(cat, e.getenv), t, schema.ColEventDate, d1, d2, runID, e.log)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.out, "%-22s %5d files -> %d (%d rows)\n", res.Table, res.FilesBefore, res.After, res.Rows)
			}
			return nil
		})
}

func sweepCommand(e *env) *cobra.Command {
	var older time.Duration
	var dry bool
	return command(e, describe("sweep", "delete data files a killed run wrote but never committed"), []string{config.GroupLake},
		func(fs *pflag.FlagSet) {
			fs.DurationVar(&older, "older-than", 24*time.Hour, "only files older than this (minimum 1h)")
			fs.BoolVar(&dry, "dry-run", false, "count, delete nothing")
		},
		func(ctx context.Context, _ []string) error {
			if older < maintain.MinSweepAge {
				return usageError{fmt.Errorf("--older-than %s: at least %s", older, maintain.MinSweepAge)}
			}
			cat, err := e.catalog(ctx)
			if err != nil {
				return err
			}
			res, err := maintain.Sweep(ctx, cat, schema.All(), older, dry)
			for _, r := range res {
				if r.Orphans > 0 {
					fmt.Fprintf(e.out, "%-28s %4d unreferenced files (%s), %d deleted\n", r.Table, r.Orphans, objstore.HumanSize(r.Bytes), r.Deleted)
				}
			}
			fmt.Fprintf(e.out, "swept %d tables\n", len(res))
			return err
		})
}
