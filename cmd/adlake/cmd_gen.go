package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/advertisex/adlake/config"
	"github.com/advertisex/adlake/jobs/gen"
)

func genCommand(e *env) *cobra.Command {
	var o gen.Options
	var start, manifest string
	var asJSON bool
	return command(e, describe("gen", "generate landing data (demos, tests, benchmarks), deterministic per seed"), []string{config.GroupLanding},
		func(fs *pflag.FlagSet) {
			fs.Uint64Var(&o.Seed, "seed", 1, "random seed: the same seed writes the same bytes")
			fs.StringVar(&start, "start", "2026-11-25", "first day (YYYY-MM-DD, UTC)")
			fs.IntVar(&o.Days, "days", 1, "number of days")
			fs.IntVar(&o.ImpressionsPerDay, "impressions-per-day", 20000, "impressions per day (clicks, conversions and bid requests follow)")
			fs.BoolVar(&o.Defects, "defects", false, "inject bad input")
			fs.StringVar(&o.Anomaly, "anomaly", "", "inject a data-quality anomaly on the last day: "+strings.Join(gen.Anomalies, ", ")+" (see above)")
			fs.StringVar(&manifest, "manifest", "", "write the manifest (exact counts) as JSON to this file")
			fs.BoolVar(&asJSON, "json", false, "print the manifest as JSON instead of a table")
		},
		func(ctx context.Context, _ []string) error {
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
			o.Progress = func(done, total int) { e.term.Progress("gen (hours)", done, total, 0, 0) }
			m, err := gen.Run(ctx, b, o)
			e.term.Done()
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
			return m.WriteText(e.out, b.String())
		})
}
