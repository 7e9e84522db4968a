package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/advertisex/adlake/config"
	"github.com/advertisex/adlake/jobs/quality"
	"github.com/advertisex/adlake/lake/runs"
	"github.com/advertisex/adlake/schema"
)

func qualityCommand(e *env) *cobra.Command {
	var date, from, to, asOf, checks string
	var asJSON, noAlerts, all bool
	c := describe("quality", "run the data-quality checks, record them in ops.dq_results, send alerts")
	c.Long += "\n\nChecks: " + strings.Join(quality.Checks, ", ")
	return command(e, c, []string{config.GroupLake, config.GroupQuality, config.GroupAlerts},
		func(fs *pflag.FlagSet) {
			fs.StringVar(&date, "date", "", "event date to check (YYYY-MM-DD)")
			fs.StringVar(&from, "from", "", "first event date of a range")
			fs.StringVar(&to, "to", "", "last event date of a range")
			fs.StringVar(&asOf, "as-of", "", "judge as of this time (RFC 3339), default now")
			fs.StringVar(&checks, "checks", "", "comma-separated checks to run (default all)")
			fs.BoolVar(&asJSON, "json", false, "print results as JSON lines")
			fs.BoolVar(&noAlerts, "no-alerts", false, "record results but send no alerts")
			fs.BoolVar(&all, "all", false, "print passing results too")
		},
		func(ctx context.Context, _ []string) error {
			req, err := parseQuality(date, from, to, asOf, checks)
			if err != nil {
				return err
			}
			cat, err := e.catalog(ctx)
			if err != nil {
				return err
			}
			d := quality.Deps{Catalog: committer(cat, e.getenv), Log: e.log}
			if !noAlerts {
				if d.Alerter, err = e.alerter(ctx, cat); err != nil {
					return err
				}
			}
			req.Job, req.RunID = schema.JobQuality, runs.NewID(schema.JobQuality)
			rs, err := quality.Run(ctx, d, e.cfg.Quality, req)
			var werr error
			if asJSON {
				werr = quality.WriteJSON(e.out, rs)
			} else {
				werr = quality.WriteText(e.out, rs, all)
			}
			return errors.Join(err, werr, quality.Failed(rs))
		})
}

// parseQuality turns the quality command's flags into a request.
func parseQuality(date, from, to, asOf, checks string) (quality.Request, error) {
	at := time.Now().UTC()
	if asOf != "" {
		t, err := time.Parse(time.RFC3339, asOf)
		if err != nil {
			return quality.Request{}, usageError{fmt.Errorf("--as-of: %w", err)}
		}
		at = t.UTC()
	}
	only, err := quality.ParseChecks(checks)
	if err != nil {
		return quality.Request{}, usageError{fmt.Errorf("--checks: %w", err)}
	}
	var d1, d2 time.Time
	switch {
	case date != "" && from != "":
		return quality.Request{}, usageError{errors.New("give --date or --from/--to, not both")}
	case date != "":
		d1, d2, err = dateRange(date, date)
	case from != "":
		d1, d2, err = dateRange(from, to)
	}
	if err != nil {
		return quality.Request{}, err
	}
	return quality.NewRequest(d1, d2, at, asOf != "", only), nil
}
