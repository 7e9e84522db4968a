package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/advertisex/adlake/config"
	"github.com/advertisex/adlake/jobs/bronze"
	"github.com/advertisex/adlake/jobs/quality"
	"github.com/advertisex/adlake/jobs/silver"
	"github.com/advertisex/adlake/lake/alert"
	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/schema"
)

// errChecksFailed is returned when a data-quality check failed.
var errChecksFailed = errors.New("data-quality checks failed (see ops.dq_results and docs/runbooks)")

func qualityCommand() command {
	return command{
		name:    "quality",
		summary: "run the data-quality checks, record them in ops.dq_results, send alerts",
		usage: `Runs the partition checks of event dates (row counts per hour against the
same hour in earlier weeks, null rates, unknown creatives, clicks with no
impression) and the checks of the present (freshness of events and of
landing files, an ingest that has not run). Every result goes to
ops.dq_results; warn and fail raise one alert per condition through SNS,
email and the webhook (see docs/alerts.md), deduplicated while the
condition persists, and a "resolved" message when it clears. The per-run
checks (reconciliation, reject, duplicate rates, schema drift) run inside
every 'adlake ingest'.

Without --date: the present checks, and the settled hours of today.
With --date (or --from/--to): those dates' partition checks, oldest first;
the present checks too when --as-of is given or the date is today.
Seed the row-count history of an existing lake with --from/--to.

  adlake quality
  adlake quality --date 2026-11-25
  adlake quality --from 2026-10-28 --to 2026-11-24 --no-alerts
  adlake quality --checks freshness_event,freshness_landing --as-of 2026-11-26T00:30:00Z

Exit code 5 when any check failed (0 when all passed or only warned).
Checks: ` + strings.Join(quality.Checks, ", "),
		flags: func(fs *flag.FlagSet) func(context.Context, *env) error {
			var date, from, to, asOf, checks string
			var asJSON, noAlerts, all bool
			fs.StringVar(&date, "date", "", "event date to check (YYYY-MM-DD)")
			fs.StringVar(&from, "from", "", "first event date of a range")
			fs.StringVar(&to, "to", "", "last event date of a range")
			fs.StringVar(&asOf, "as-of", "", "judge as of this time (RFC 3339), default now")
			fs.StringVar(&checks, "checks", "", "comma-separated checks to run (default all)")
			fs.BoolVar(&asJSON, "json", false, "print results as JSON lines")
			fs.BoolVar(&noAlerts, "no-alerts", false, "record results but send no alerts")
			fs.BoolVar(&all, "all", false, "print passing results too")
			return func(ctx context.Context, e *env) error {
				req, err := parseQuality(date, from, to, asOf, checks)
				if err != nil {
					return err
				}
				cat, err := e.catalog(ctx)
				if err != nil {
					return err
				}
				rs, err := runQuality(ctx, e, cat, req, "quality", !noAlerts)
				printResults(e, rs, asJSON, all)
				if err != nil {
					return err
				}
				return failed(rs)
			}
		},
	}
}

// qualityRequest is what to check.
type qualityRequest struct {
	dates []time.Time
	now   bool // run the present checks
	asOf  time.Time
	only  []string
}

func parseQuality(date, from, to, asOf, checks string) (qualityRequest, error) {
	req := qualityRequest{asOf: time.Now().UTC()}
	if asOf != "" {
		t, err := time.Parse(time.RFC3339, asOf)
		if err != nil {
			return req, usageError{fmt.Errorf("--as-of: %w", err)}
		}
		req.asOf, req.now = t.UTC(), true
	}
	for _, c := range strings.Split(checks, ",") {
		if c = strings.TrimSpace(c); c == "" {
			continue
		}
		if !slices.Contains(quality.Checks, c) {
			return req, usageError{fmt.Errorf("--checks: unknown check %q (checks: %s)", c, strings.Join(quality.Checks, ", "))}
		}
		req.only = append(req.only, c)
	}
	today := req.asOf.Truncate(24 * time.Hour)
	switch {
	case date != "" && from != "":
		return req, usageError{errors.New("give --date or --from/--to, not both")}
	case date != "":
		from, to = date, date
	case from == "":
		req.dates, req.now = []time.Time{today}, true
		return req, nil
	}
	d1, d2, err := dateRange(from, to)
	if err != nil {
		return req, err
	}
	for d := d1; !d.After(d2); d = d.AddDate(0, 0, 1) {
		req.dates = append(req.dates, d)
		req.now = req.now || d.Equal(today)
	}
	return req, nil
}

// runQuality runs the checks of req, records them (one commit per date)
// and alerts on them.
func runQuality(ctx context.Context, e *env, cat *catalog.Catalog, req qualityRequest, job string, alerts bool) ([]quality.Result, error) {
	ck := quality.NewChecker(cat, e.cfg.Quality, quality.AsOf(req.asOf), quality.Only(req.only...), quality.WithLogger(e.log))
	run := quality.Run{ID: newRunID(job), Job: job, At: time.Now().UTC()}
	var out []quality.Result
	batch := func(rs []quality.Result, err error) error {
		if err != nil {
			return err
		}
		if err := quality.Record(ctx, cat, run, rs); err != nil {
			return err
		}
		out = append(out, rs...)
		return nil
	}
	for _, d := range req.dates {
		if err := batch(ck.Date(ctx, d)); err != nil {
			return out, err
		}
	}
	if req.now {
		if err := batch(ck.Now(ctx)); err != nil {
			return out, err
		}
	}
	if alerts {
		return out, sendAlerts(ctx, e, cat, run, out)
	}
	return out, nil
}

// sendAlerts raises the alerts results call for; delivery failures are
// logged, never fatal to the job.
func sendAlerts(ctx context.Context, e *env, cat *catalog.Catalog, run quality.Run, rs []quality.Result) error {
	fan, err := alertFanout(ctx, e.cfg.Alerts)
	if err != nil {
		return err
	}
	var out quality.Deliverer
	if fan != nil {
		out = fan
	}
	sent, err := quality.NewAlerter(cat, e.cfg.Alerts.RunbookBase, out).Alert(ctx, run, rs)
	for _, s := range sent {
		e.log.Warn("alert", "state", s.Message.State, "status", s.Message.Severity, "check", s.Message.Check,
			"table", s.Message.Table, "partition", s.Message.Partition, "observed", s.Message.Observed,
			"expected", s.Message.Expected, "channels", strings.Join(s.Channels, ","))
	}
	if err != nil {
		e.log.Error("alert delivery failed", "err", err)
	}
	return nil
}

func failed(rs []quality.Result) error {
	for _, r := range rs {
		if r.Status == quality.Fail {
			return errChecksFailed
		}
	}
	return nil
}

func printResults(e *env, rs []quality.Result, asJSON, all bool) {
	if asJSON {
		enc := json.NewEncoder(e.out)
		for _, r := range rs {
			_ = enc.Encode(resultJSON(r))
		}
		return
	}
	passed := map[string]int{}
	w := tabwriter.NewWriter(e.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "STATUS\tCHECK\tTABLE\tPARTITION\tOBSERVED\tEXPECTED")
	for _, r := range rs {
		if r.Status == quality.Pass && !all {
			passed[r.Check]++
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", strings.ToUpper(string(r.Status)), r.Check, r.Table, r.Partition, resultJSON(r).Observed, r.Expected)
	}
	_ = w.Flush()
	if len(passed) > 0 {
		names := sortedKeys(passed)
		parts := make([]string, len(names))
		for i, n := range names {
			parts[i] = fmt.Sprintf("%s %d", n, passed[n])
		}
		fmt.Fprintf(e.out, "passed: %s\n", strings.Join(parts, ", "))
	}
}

type resultOut struct {
	Date      string `json:"dq_date"`
	Check     string `json:"check"`
	Table     string `json:"table"`
	Partition string `json:"partition"`
	Observed  string `json:"observed"`
	Expected  string `json:"expected"`
	Status    string `json:"status"`
	Detail    string `json:"detail,omitempty"`
}

func resultJSON(r quality.Result) resultOut {
	obs := "-"
	if !math.IsNaN(r.Observed) {
		obs = fmt.Sprintf("%.6g", r.Observed)
	}
	return resultOut{r.Date.Format(time.DateOnly), r.Check, r.Table, r.Partition, obs, r.Expected, string(r.Status), r.Detail}
}

// runChecks grades one ingest run (reconciliation, reject and duplicate
// rates, schema drift), records the results and alerts. Its failures are
// logged, never the run's: the data is committed either way.
func runChecks(ctx context.Context, e *env, cat *catalog.Catalog, rep bronze.Report, srep silver.Report) []quality.Result {
	run := quality.Run{ID: rep.RunID, Job: "ingest", At: time.Now().UTC()}
	rs := quality.RunChecks(feedRuns(rep, srep, e.cfg.Silver.Enabled), run.At, e.cfg.Quality)
	if err := quality.Record(ctx, cat, run, rs); err != nil {
		e.log.Error("cannot record data-quality results", "error", err.Error())
		return rs
	}
	if err := sendAlerts(ctx, e, cat, run, rs); err != nil {
		e.log.Error("cannot raise alerts", "error", err.Error())
	}
	return rs
}

// feedRuns joins the bronze and silver reports of one run by feed.
func feedRuns(rep bronze.Report, srep silver.Report, silverOn bool) []quality.FeedRun {
	byFeed := map[string]silver.FeedReport{}
	for _, f := range srep.Feeds {
		byFeed[f.Feed] = f
	}
	var out []quality.FeedRun
	for _, f := range rep.Feeds {
		fr := quality.FeedRun{Feed: f.Feed, Table: schema.Bronze[f.Feed].String(),
			Landing: f.Decoded + f.RejectedRecords, Bronze: f.Rows, BronzeRejected: f.RejectedRecords}
		if s, ok := byFeed[f.Feed]; ok && silverOn {
			fr.Silver, fr.SilverIn = true, s.RowsIn
			fr.SilverOut, fr.SilverRejected, fr.SilverDup = sum(s.Valid), sum(s.Rejected), sum(s.Duplicates)
		}
		for _, sig := range sortedKeys(f.Drift) {
			d := f.Drift[sig]
			fr.Drift = append(fr.Drift, quality.DriftFiles{Drift: d.Drift, Files: d.Files, Example: d.Example})
		}
		out = append(out, fr)
	}
	return out
}

// printChecks prints the results that did not pass.
func printChecks(e *env, rs []quality.Result) {
	var bad []quality.Result
	for _, r := range rs {
		if r.Status != quality.Pass {
			bad = append(bad, r)
		}
	}
	if len(bad) > 0 {
		fmt.Fprintln(e.out, "\ndata quality")
		printResults(e, bad, false, true)
	}
}

// alertFanout builds the configured alert channels; nil when none is.
func alertFanout(ctx context.Context, c config.Alerts) (*alert.Fanout, error) {
	var chans []alert.Channel
	if c.SNSTopicARN != "" {
		s, err := alert.NewSNS(ctx, alert.SNSOptions{TopicARN: c.SNSTopicARN, Endpoint: c.SNSEndpoint})
		if err != nil {
			return nil, usageError{err}
		}
		chans = append(chans, alert.Channel{Name: "sns", Sender: s})
	}
	if c.SMTPAddr != "" {
		var to []string
		for _, a := range strings.Split(c.EmailTo, ",") {
			if a = strings.TrimSpace(a); a != "" {
				to = append(to, a)
			}
		}
		m, err := alert.NewEmail(alert.EmailOptions{Addr: c.SMTPAddr, From: c.EmailFrom, To: to, Username: c.SMTPUsername, PasswordEnv: c.SMTPPasswordEnv})
		if err != nil {
			return nil, usageError{err}
		}
		chans = append(chans, alert.Channel{Name: "email", Sender: m})
	}
	if c.WebhookURL != "" {
		w, err := alert.NewWebhook(alert.WebhookOptions{URL: c.WebhookURL})
		if err != nil {
			return nil, usageError{err}
		}
		chans = append(chans, alert.Channel{Name: "webhook", Sender: w})
	}
	if len(chans) == 0 {
		return nil, nil
	}
	return alert.NewFanout(chans...)
}
