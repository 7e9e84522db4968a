package quality

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// ErrFailed is the error of a job with a failed check (adlake exits 5).
var ErrFailed = errors.New("data-quality checks failed (see ops.dq_results and docs/runbooks)")

// Failed returns ErrFailed when a result of rs failed, else nil.
func Failed(rs []Result) error {
	for _, r := range rs {
		if r.Status == Fail {
			return ErrFailed
		}
	}
	return nil
}

// FormatObserved formats an observation for people: six significant
// digits, "-" when nothing was observed (NaN).
func FormatObserved(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	return fmt.Sprintf("%.6g", x)
}

// resultJSON is one result as WriteJSON prints it.
type resultJSON struct {
	Date      string `json:"dq_date"`
	Check     string `json:"check"`
	Table     string `json:"table"`
	Partition string `json:"partition"`
	Observed  string `json:"observed"`
	Expected  string `json:"expected"`
	Status    string `json:"status"`
	Detail    string `json:"detail,omitempty"`
}

// WriteJSON prints rs as JSON lines, one object per result: dq_date,
// check, table, partition, observed (as FormatObserved), expected,
// status and detail (left out when empty).
func WriteJSON(w io.Writer, rs []Result) error {
	enc := json.NewEncoder(w)
	for _, r := range rs {
		err := enc.Encode(resultJSON{r.Date.Format(time.DateOnly), r.Check, r.Table, r.Partition,
			FormatObserved(r.Observed), r.Expected, string(r.Status), r.Detail})
		if err != nil {
			return err
		}
	}
	return nil
}

// WriteText prints rs as a table for people (status, check, table,
// partition, observed, expected), then, unless all, in place of the
// passing results one line counting them by check.
func WriteText(w io.Writer, rs []Result, all bool) error {
	passed := map[string]int{}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tCHECK\tTABLE\tPARTITION\tOBSERVED\tEXPECTED")
	for _, r := range rs {
		if r.Status == Pass && !all {
			passed[r.Check]++
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", strings.ToUpper(string(r.Status)), r.Check, r.Table, r.Partition, FormatObserved(r.Observed), r.Expected)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(passed) > 0 {
		names := slices.Sorted(maps.Keys(passed))
		parts := make([]string, len(names))
		for i, n := range names {
			parts[i] = fmt.Sprintf("%s %d", n, passed[n])
		}
		if _, err := fmt.Fprintf(w, "passed: %s\n", strings.Join(parts, ", ")); err != nil {
			return err
		}
	}
	return nil
}
