package main

import (
	"cmp"
	"context"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/advertisex/adlake/config"
	"github.com/advertisex/adlake/jobs/bronze"
	"github.com/advertisex/adlake/jobs/ingest"
	"github.com/advertisex/adlake/jobs/rebuild"
	"github.com/advertisex/adlake/jobs/replay"
	"github.com/advertisex/adlake/lake/runs"
	"github.com/advertisex/adlake/schema"
)

func ingestCommand(e *env) *cobra.Command {
	var feeds []string
	var runID string
	return command(e, describe("ingest", "one micro-batch: new landing files -> bronze -> silver (+ ops.quarantine)"), []string{config.GroupLanding, config.GroupLake, config.GroupIngest, config.GroupSilver, config.GroupQuality, config.GroupAlerts},
		func(fs *pflag.FlagSet) {
			fs.StringSliceVar(&feeds, "feed", nil, "feed to ingest (repeatable or comma-separated; default all: "+strings.Join(schema.FeedNames(), ", ")+")")
			fs.StringVar(&runID, "run-id", "", "run id (default: generated, time-ordered)")
			e.jsonFlag(fs, "print the summary as JSON")
		},
		func(ctx context.Context, _ []string) error {
			fds, err := schema.ParseFeeds(feeds)
			if err != nil {
				return usageError{err}
			}
			return runIngest(ctx, e, fds, orNew(runID, schema.JobIngest))
		})
}

func runIngest(ctx context.Context, e *env, feeds []schema.Feed, runID string) error {
	store, cat, locks, err := e.lake(ctx)
	if err != nil {
		return err
	}
	d := ingest.Deps{Landing: store, Catalog: committer(cat, e.getenv), Locks: locks, Log: e.log}
	o := ingest.Options{Feeds: feeds, RunID: runID, Version: version, Bronze: e.cfg.BronzeOptions()}
	o.Bronze.Progress = func(p bronze.Progress) { e.term.Progress(p.Feed, p.FilesDone, p.FilesTotal, p.BytesDone, p.BytesTotal) }
	if e.cfg.Silver.Enabled {
		so := e.cfg.SilverOptions(runID, e.log)
		o.Silver = &so
	}
	if e.cfg.Quality.Enabled {
		o.Quality = &e.cfg.Quality
		if d.Alerter, err = e.alerter(ctx, cat); err != nil {
			return err
		}
	}
	rep, err := ingest.Run(ctx, d, o)
	return e.print(rep, err)
}

func orNew(runID, job string) string {
	if runID != "" {
		return runID
	}
	return runs.NewID(job)
}

func replayCommand(e *env) *cobra.Command {
	var feed, reason, runID string
	return command(e, describe("replay", "re-submit quarantined records to the current silver rules, after a fix"), []string{config.GroupLake, config.GroupIngest, config.GroupSilver},
		func(fs *pflag.FlagSet) {
			fs.StringVar(&feed, "feed", "", "only this feed ("+strings.Join(schema.FeedNames(), ", ")+")")
			fs.StringVar(&reason, "reason", "", "only this reason (missing_required, invalid_timestamp, future_timestamp, too_late, invalid_value)")
			fs.StringVar(&runID, "run-id", "", "run id (default: generated)")
			e.jsonFlag(fs, "print the outcome as JSON")
		},
		func(ctx context.Context, _ []string) error {
			var names []string
			if feed != "" {
				names = []string{feed}
			}
			feeds, err := schema.ParseFeeds(names)
			if err != nil {
				return usageError{err}
			}
			_, cat, locks, err := e.lake(ctx)
			if err != nil {
				return err
			}
			o := e.cfg.SilverOptions(orNew(runID, schema.JobReplay), e.log)
			o.Feeds = feeds
			rep, err := replay.Run(ctx, committer(cat, e.getenv), locks, o, replay.Filter{Feed: feed, Reason: reason})
			if err != nil {
				return err
			}
			return e.print(rep, nil)
		})
}

func rebuildCommand(e *env) *cobra.Command {
	var from, to string
	var feeds []string
	return command(e, describe("rebuild silver", "re-derive a layer for a date range: adlake rebuild silver --from D1 --to D2", layer("silver")), []string{config.GroupLake, config.GroupIngest, config.GroupSilver},
		func(fs *pflag.FlagSet) {
			fs.StringVar(&from, "from", "", "first event date (YYYY-MM-DD), required")
			fs.StringVar(&to, "to", "", "last event date (YYYY-MM-DD), default --from")
			fs.StringSliceVar(&feeds, "feed", nil, "feed (repeatable; default all)")
		},
		func(ctx context.Context, _ []string) error {
			d1, d2, err := dateRange(from, to)
			if err != nil {
				return err
			}
			fds, err := schema.ParseFeeds(feeds)
			if err != nil {
				return usageError{err}
			}
			_, cat, locks, err := e.lake(ctx)
			if err != nil {
				return err
			}
			o := e.cfg.SilverOptions(runs.NewID(schema.JobRebuild), e.log)
			o.Feeds = fds
			d := rebuild.Deps{Catalog: committer(cat, e.getenv), Locks: locks, Log: e.log}
			rep, err := rebuild.Silver(ctx, d, o, d1, d2, version)
			return cmp.Or(err, rep.WriteText(e.out))
		})
}
