package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/advertisex/adlake/jobs/maintain"
	"github.com/advertisex/adlake/schema"
)

func sweepCommand() command {
	return command{
		name:    "sweep",
		summary: "delete data files a killed run wrote but never committed",
		usage: `A run killed before its commit leaves data files that no snapshot
references: no reader sees them, they only take space. sweep finds, in
every table, the unreferenced files older than --older-than (at least 1h, so
a commit in flight is never touched) and deletes them; --dry-run only lists
the counts. Schedule it daily.

  adlake sweep --older-than 24h --dry-run`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env) error {
			var older time.Duration
			var dry bool
			fs.DurationVar(&older, "older-than", 24*time.Hour, "only files older than this (minimum 1h)")
			fs.BoolVar(&dry, "dry-run", false, "count, delete nothing")
			return func(ctx context.Context, e *env) error {
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
						fmt.Fprintf(e.out, "%-28s %4d unreferenced files (%s), %d deleted\n", r.Table, r.Orphans, humanBytes(r.Bytes), r.Deleted)
					}
				}
				fmt.Fprintf(e.out, "swept %d tables\n", len(res))
				return err
			}
		},
	}
}
