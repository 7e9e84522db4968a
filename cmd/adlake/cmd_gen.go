package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/advertisex/adlake/jobs/gen"
)

func genCommand() command {
	return command{
		name:    "gen",
		summary: "generate landing data (demos, tests, benchmarks), deterministic per seed",
		usage: `Writes the three feeds and the four reference snapshots into the landing
zone, exactly per the contract (docs/SPEC.md §1), for --days days from
--start. --defects injects every kind of bad input the contract names
(malformed lines and rows, missing fields, bad/future/too-late timestamps,
duplicates, a re-delivered file, empty and corrupt files, reordered CSV
columns, Avro v2 files, ...). The counts of what was written go to stdout,
and as JSON to --manifest.

--anomaly KIND puts one data-quality anomaly on the last day; the days
before are byte-identical, and the same command run again without it
writes the same files plus what it held back (a late delivery):
  dropped_hour       no impressions files for arrival hour 13
  stalled_feed       no clicks_conversions files from arrival hour 06 on
  new_csv_column     column click_source (4th) in every clicks_conversions file
  avro_v2            every bid_requests file written with contract v2
  duplicate_burst    every hour's first impressions file delivered twice
  missing_reference  creative cr-0001 missing from the day's creatives.csv
  reject_burst       one malformed line per 4 in every hour's first impressions file
  orphan_clicks      2 clicks an hour by users that never had an impression
The manifest's "anomaly" has its exact counts.

  adlake gen --days 2 --impressions-per-day 50000 --defects --manifest gen.json`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env) error {
			var o gen.Options
			var start, manifest string
			var asJSON bool
			fs.Uint64Var(&o.Seed, "seed", 1, "random seed: the same seed writes the same bytes")
			fs.StringVar(&start, "start", "2026-11-25", "first day (YYYY-MM-DD, UTC)")
			fs.IntVar(&o.Days, "days", 1, "number of days")
			fs.IntVar(&o.ImpressionsPerDay, "impressions-per-day", 20000, "impressions per day (clicks, conversions and bid requests follow)")
			fs.BoolVar(&o.Defects, "defects", false, "inject bad input")
			fs.StringVar(&o.Anomaly, "anomaly", "", "inject a data-quality anomaly on the last day: "+strings.Join(gen.Anomalies, ", ")+" (see above)")
			fs.StringVar(&manifest, "manifest", "", "write the manifest (exact counts) as JSON to this file")
			fs.BoolVar(&asJSON, "json", false, "print the manifest as JSON instead of a table")
			return func(ctx context.Context, e *env) error {
				day, err := time.Parse(time.DateOnly, start)
				if err != nil {
					return usageError{fmt.Errorf("--start: %w", err)}
				}
				o.Start = day
				if !gen.ValidAnomaly(o.Anomaly) {
					return usageError{fmt.Errorf("--anomaly %q: want one of %s", o.Anomaly, strings.Join(gen.Anomalies, ", "))}
				}
				b, err := e.landing(ctx)
				if err != nil {
					return err
				}
				o.Progress = func(done, total int) { e.term.progress("gen (hours)", done, total, 0, 0) }
				m, err := gen.Run(ctx, b, o)
				e.term.done()
				if err != nil {
					return err
				}
				data, _ := json.MarshalIndent(m, "", "  ") // a manifest always marshals
				if manifest != "" {
					if err := os.WriteFile(manifest, append(data, '\n'), 0o644); err != nil {
						return err
					}
				}
				if asJSON {
					_, err := fmt.Fprintln(e.out, string(data))
					return err
				}
				printManifest(e, m, b.String())
				return nil
			}
		},
	}
}

func printManifest(e *env, m *gen.Manifest, where string) {
	fmt.Fprintf(e.out, "generated %d day(s) from %s into %s (seed %d, defects %v)\n\n", m.Days, m.Start, where, m.Seed, m.Defects)
	w := tabwriter.NewWriter(e.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "feed\tfiles\trecords\tbronze rows\tmalformed\tunreadable files\tvalid\tduplicates\t")
	for _, feed := range []string{"impressions", "clicks_conversions", "bid_requests"} {
		f := m.Feeds[feed]
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", feed, f.Files, f.Records, f.BronzeRows, f.MalformedRecords, f.UnreadableFiles, f.Valid, f.Duplicates)
	}
	w.Flush()
}
