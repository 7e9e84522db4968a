package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/advertisex/adlake/config"
	"github.com/advertisex/adlake/jobs/daily"
	"github.com/advertisex/adlake/lake/runs"
)

// goldGroups are the settings the gold jobs take.
var goldGroups = []string{config.GroupLake, config.GroupIngest, config.GroupGold, config.GroupQuality, config.GroupAlerts}

func runCommand(e *env) *cobra.Command {
	var date string
	return command(e, describe("run daily", "the daily job: adlake run daily --date D builds gold for D and re-states stale days", layer("daily")), goldGroups,
		func(fs *pflag.FlagSet) {
			fs.StringVar(&date, "date", time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly), "event date (YYYY-MM-DD), default yesterday")
			e.jsonFlag(fs, "print the builds as JSON lines")
		},
		func(ctx context.Context, _ []string) error {
			d, _, err := dateRange(date, "")
			if err != nil {
				return err
			}
			deps, o, err := e.daily(ctx, 1, false)
			if err != nil {
				return err
			}
			rep, err := daily.Run(ctx, deps, o, d)
			return e.print(rep, err)
		})
}

func backfillCommand(e *env) *cobra.Command {
	var from, to string
	var parallel int
	var force bool
	return command(e, describe("backfill", "build gold for a date range: adlake backfill --from D1 --to D2 [--parallel N]"), goldGroups,
		func(fs *pflag.FlagSet) {
			fs.StringVar(&from, "from", "", "first event date (YYYY-MM-DD), required")
			fs.StringVar(&to, "to", "", "last event date (YYYY-MM-DD), default --from")
			fs.IntVar(&parallel, "parallel", 1, "dates built at once")
			fs.BoolVar(&force, "force", false, "rebuild every date, stale or not")
			e.jsonFlag(fs, "print the builds as JSON lines")
		},
		func(ctx context.Context, _ []string) error {
			if from == "" {
				return usageError{errors.New("--from is required")}
			}
			d1, d2, err := dateRange(from, to)
			if err != nil {
				return err
			}
			if parallel < 1 || d2.Before(d1) {
				return usageError{errors.New("--parallel must be at least 1 and --to not before --from")}
			}
			deps, o, err := e.daily(ctx, parallel, force)
			if err != nil {
				return err
			}
			rep, err := daily.Backfill(ctx, deps, o, d1, d2)
			return e.print(rep, err)
		})
}

// daily builds the gold jobs' dependencies and options.
func (e *env) daily(ctx context.Context, parallel int, force bool) (daily.Deps, daily.Options, error) {
	_, cat, locks, err := e.lake(ctx)
	if err != nil {
		return daily.Deps{}, daily.Options{}, err
	}
	d := daily.Deps{Catalog: committer(cat, e.getenv), Locks: locks, Log: e.log, NewRunID: runs.NewID,
		Progress: func(done, total int) { e.term.Progress("gold", done, total, 0, 0) }}
	o := daily.Options{Parallel: parallel, Force: force, HoldGold: e.cfg.Quality.HoldGold, Version: version, Gold: e.cfg.GoldOptions()}
	if e.cfg.Quality.Enabled {
		o.Quality = &e.cfg.Quality
		if d.Alerter, err = e.alerter(ctx, cat); err != nil {
			return d, o, err
		}
	}
	return d, o, nil
}

// dateRange parses --from and --to (default --from) as UTC dates.
func dateRange(from, to string) (time.Time, time.Time, error) {
	d1, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return d1, d1, usageError{fmt.Errorf("--from: %w", err)}
	}
	if to == "" {
		return d1, d1, nil
	}
	d2, err := time.Parse(time.DateOnly, to)
	if err != nil {
		return d1, d2, usageError{fmt.Errorf("--to: %w", err)}
	}
	return d1, d2, nil
}
