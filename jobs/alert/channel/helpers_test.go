package channel_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/advertisex/adlake/jobs/alert/channel"
)

// endpoint returns the value of the variable localstack/up.sh exports for
// a service. Under CI the service is mandatory; elsewhere the test skips.
func endpoint(t *testing.T, name, what string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI: %s not set; localstack/up.sh must start %s", name, what)
		}
		t.Skipf("no %s: run `eval \"$(localstack/up.sh)\"` first (or `make test`, which starts one)", what)
	}
	return v
}

// unique is a name no earlier run used.
func unique(prefix string) string { return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()) }

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// sample is a firing fail message whose partition carries tag, so a test
// can find its own message on a shared server.
func sample(tag string) channel.Message {
	return channel.Message{
		Key:       "row_count|silver.impressions|event_date=2026-11-25/hour=13/" + tag,
		State:     channel.Firing,
		Severity:  "fail",
		Check:     "row_count",
		Table:     "silver.impressions",
		Partition: "event_date=2026-11-25/hour=13/" + tag,
		Observed:  "1234",
		Expected:  "between 9000 and 11000 (same hour in the last 4 weeks)",
		RunID:     "quality-20261125T140000Z-ab12",
		Runbook:   "https://github.com/advertisex/adlake/blob/main/docs/runbooks/row-count.md",
		Detail:    "hour-of-week median 10020, MAD 310",
		At:        time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC),
	}
}
