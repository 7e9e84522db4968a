package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/advertisex/adlake/jobs/maintain"
	"github.com/advertisex/adlake/schema"
)

func compactCommand() command {
	return command{
		name:    "compact",
		summary: "rewrite the small files of silver partitions into large ones",
		usage: `Every micro-batch adds a file to each silver partition (event date) it
touches. Compaction rewrites the files of the event dates --from..--to into
files of the target size (128 MiB), one atomic replace per table; rows are
neither added nor lost, and files committed meanwhile are not touched. Run
it daily for the previous days (orchestration/crontab.example).

  adlake compact --from 2026-11-24 --to 2026-11-25`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env) error {
			var from, to string
			fs.StringVar(&from, "from", time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly), "first event date (YYYY-MM-DD), default yesterday")
			fs.StringVar(&to, "to", "", "last event date (YYYY-MM-DD), default --from")
			return func(ctx context.Context, e *env) error {
				d1, d2, err := dateRange(from, to)
				if err != nil {
					return err
				}
				cat, err := e.catalog(ctx)
				if err != nil {
					return err
				}
				runID := newRunID("compact")
				for _, t := range schema.Silver() {
					res, err := maintain.Compact(ctx, cat, t, schema.ColEventDate, d1, d2, runID, e.log)
					if err != nil {
						return err
					}
					fmt.Fprintf(e.out, "%-22s %5d files -> %d (%d rows)\n", res.Table, res.FilesBefore, res.After, res.Rows)
				}
				return nil
			}
		},
	}
}
