package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"

	"github.com/advertisex/adlake/jobs/bronze"
	"github.com/advertisex/adlake/jobs/silver"
	"github.com/advertisex/adlake/schema"
)

func replayCommand() command {
	return command{
		name:    "replay",
		summary: "re-submit quarantined records to the current silver rules, after a fix",
		usage: `Takes the open silver-stage rows of ops.quarantine (those not replayed yet),
optionally only of one feed and reason, re-reads their bronze records and
runs them through the current rules, for example after a new conversion type
was accepted (silver.extra_conversion_types). Accepted records go to silver,
deduplicated as always, so a record is never in silver twice; every outcome
(accepted, rejected with the new reason, duplicate) is recorded in
ops.replays, and replayed rows are not selected again.

  ADLAKE_SILVER_EXTRA_CONVERSION_TYPES=refund adlake replay --feed clicks_conversions --reason invalid_value`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env) error {
			var feed, reason, runID string
			var asJSON bool
			fs.StringVar(&feed, "feed", "", "only this feed ("+strings.Join(bronze.DefaultFeeds, ", ")+")")
			fs.StringVar(&reason, "reason", "", "only this reason (missing_required, invalid_timestamp, future_timestamp, too_late, invalid_value)")
			fs.StringVar(&runID, "run-id", "", "run id (default: generated)")
			fs.BoolVar(&asJSON, "json", false, "print the outcome as JSON")
			return func(ctx context.Context, e *env) error {
				feeds := bronze.DefaultFeeds
				if feed != "" {
					if _, ok := schema.Bronze[feed]; !ok {
						return usageError{fmt.Errorf("unknown feed %q", feed)}
					}
					feeds = []string{feed}
				}
				if runID == "" {
					runID = newRunID("replay")
				}
				cat, err := e.catalog(ctx)
				if err != nil {
					return err
				}
				unlock, err := lockFeeds(ctx, cat, feeds)
				if err != nil {
					return err
				}
				defer unlock()
				rep, err := silver.Replay(ctx, cat, silverOptions(e, feeds, runID, nil), silver.ReplayFilter{Feed: feed, Reason: reason})
				if err != nil {
					return err
				}
				if asJSON {
					data, _ := json.MarshalIndent(map[string]any{"run_id": runID, "selected": rep.Selected, "outcomes": rep.Feeds}, "", "  ")
					_, err := fmt.Fprintln(e.out, string(data))
					return err
				}
				fmt.Fprintf(e.out, "replay %s: %d open quarantine rows selected\n", runID, rep.Selected)
				for _, f := range sortedKeys(rep.Feeds) {
					o := rep.Feeds[f]
					fmt.Fprintf(e.out, "  %-20s accepted %d, rejected again %d, duplicate %d\n", f, o[silver.OutcomeAccepted], o[silver.OutcomeRejected], o[silver.OutcomeDuplicate])
				}
				return nil
			}
		},
	}
}
