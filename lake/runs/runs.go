// Package runs is the run ledger, ops.runs: one row per finished job run
// and feed, written at the end of the run. It is the operators' history
// ("what ran, on what, with what result"); exactly-once does not depend on
// it (the ledgers in package ledger do that), so a run killed before
// writing its row is visible in table snapshots but not here.
package runs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	"github.com/apache/iceberg-go"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/ledger"
	"github.com/advertisex/adlake/lake/rows"
	"github.com/advertisex/adlake/schema"
)

// Append writes rs in one commit (none for no rows).
func Append(ctx context.Context, cat catalog.Tables, rs []schema.RunRow) error {
	if len(rs) == 0 {
		return nil
	}
	props := iceberg.Properties{ledger.PropJob: rs[0].Job, ledger.PropRunID: rs[0].RunID}
	if err := rows.Append(ctx, cat, schema.Runs, rs, props); err != nil {
		return fmt.Errorf("ops.runs: %w", err)
	}
	return nil
}

// Recent returns the last n rows by finish time, newest first.
func Recent(ctx context.Context, cat catalog.Loader, n int) ([]schema.RunRow, error) {
	tbl, err := cat.Load(ctx, schema.Runs)
	if err != nil {
		return nil, err
	}
	out, err := rows.Collect(rows.Scan[schema.RunRow](ctx, tbl, nil))
	if err != nil {
		return nil, fmt.Errorf("ops.runs: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Finished.After(out[j].Finished) })
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}

// NewID returns a new run id of job: time-ordered ("ingest-20261125T130000Z-")
// and unique (6 random hex digits).
func NewID(job string) string {
	var b [3]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on Linux
	return fmt.Sprintf("%s-%s-%s", job, time.Now().UTC().Format("20060102T150405Z"), hex.EncodeToString(b[:]))
}
