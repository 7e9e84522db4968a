package quality

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/advertisex/adlake/lake/catalog"
)

// Checker runs the partition and "now" checks against the tables.
type Checker struct {
	cat  catalog.Loader
	lim  Limits
	asOf time.Time
	only map[string]bool
	log  *slog.Logger
}

// Option configures a Checker.
type Option func(*Checker)

// AsOf sets the time the checks judge against (default: now). Freshness
// and job-not-run measure lags up to it; row counts judge only hours that
// ended a settle time before it.
func AsOf(t time.Time) Option { return func(c *Checker) { c.asOf = t.UTC() } }

// Only restricts the checks run to names (none: all).
func Only(names ...string) Option {
	return func(c *Checker) {
		if len(names) > 0 {
			c.only = map[string]bool{}
			for _, n := range names {
				c.only[n] = true
			}
		}
	}
}

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(c *Checker) { c.log = l } }

// NewChecker returns a Checker over cat with limits lim.
func NewChecker(cat catalog.Loader, lim Limits, opts ...Option) *Checker {
	c := &Checker{cat: cat, lim: lim, asOf: time.Now().UTC(), log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Enabled reports whether the check named runs.
func (c *Checker) Enabled(name string) bool { return c.only == nil || c.only[name] }

// Filter keeps the results of enabled checks.
func (c *Checker) Filter(rs []Result) []Result {
	return slices.DeleteFunc(rs, func(r Result) bool { return !c.Enabled(r.Check) })
}

// AsOfTime is the time the checks judge against.
func (c *Checker) AsOfTime() time.Time { return c.asOf }

// Date runs the partition checks of one event date: row counts per hour,
// null rates, unknown creatives and clicks with no impression.
func (c *Checker) Date(ctx context.Context, d time.Time) ([]Result, error) {
	d = day(d)
	var out []Result
	var errs []error
	for _, step := range []struct {
		name string
		run  func(context.Context, time.Time) ([]Result, error)
	}{
		{RowCount, c.rowCounts}, {NullRate, c.nullRates}, {UnknownCreative, c.unknownCreatives}, {OrphanClicks, c.orphanClicks},
	} {
		if !c.Enabled(step.name) {
			continue
		}
		rs, err := step.run(ctx, d)
		if err != nil {
			errs = append(errs, fmt.Errorf("check %s on %s: %w", step.name, d.Format(time.DateOnly), err))
			continue
		}
		out = append(out, rs...)
	}
	return out, errors.Join(errs...)
}

// Now runs the checks of the present moment (as of AsOf): freshness of
// events and landing files per feed, and the ingest job's last success.
func (c *Checker) Now(ctx context.Context) ([]Result, error) {
	var out []Result
	var errs []error
	for _, step := range []struct {
		name string
		run  func(context.Context) ([]Result, error)
	}{
		{FreshnessEvent, c.eventFreshness}, {FreshnessLanding, c.landingFreshness}, {JobNotRun, c.jobNotRun},
	} {
		if !c.Enabled(step.name) {
			continue
		}
		rs, err := step.run(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("check %s: %w", step.name, err))
			continue
		}
		out = append(out, rs...)
	}
	return out, errors.Join(errs...)
}
