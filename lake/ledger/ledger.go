// Package ledger is adlake's exactly-once bookkeeping, kept in the tables
// themselves: the landing files each commit consumed (so a file is never
// ingested twice) and, on tables derived from bronze, the bronze snapshot
// they have consumed up to (the watermark). Both travel in the snapshot
// summary of the same atomic commit as the rows they describe.
package ledger

import (
	"encoding/json"
	"fmt"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// Snapshot summary properties adlake writes with every commit. They are the
// exactly-once ledger: the landing files a commit consumed travel in the
// same atomic commit as the rows made from them.
const (
	PropRunID = "adlake.run-id"
	PropFiles = "adlake.files" // JSON array of FileEntry
	PropJob   = "adlake.job"
)

// FileEntry is one landing file in a commit's ledger.
type FileEntry struct {
	Key     string `json:"k"`           // landing key
	Size    int64  `json:"s"`           // object size when read
	Rows    int64  `json:"r"`           // rows this commit added from it
	Rejects int64  `json:"q,omitempty"` // quarantine rows made from it
}

// Committed is where a landing file was committed.
type Committed struct {
	FileEntry
	RunID      string
	SnapshotID int64
}

// SummaryProps returns the snapshot properties recording files for run.
func SummaryProps(job, runID string, files []FileEntry) (iceberg.Properties, error) {
	b, err := json.Marshal(files)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return iceberg.Properties{PropJob: job, PropRunID: runID, PropFiles: string(b)}, nil
}

// Ledger returns every landing file recorded in the snapshots of tbl's
// current branch (the current snapshot and its ancestors), by key. Files of
// rolled-back or expired snapshots are not in it: expiring snapshots of a
// bronze table would make their files ingestible again, so adlake's own
// maintenance carries the ledger forward (docs/exactly-once.md).
func Ledger(tbl *table.Table) (map[string]Committed, error) {
	out := map[string]Committed{}
	meta := tbl.Metadata()
	for s := meta.CurrentSnapshot(); s != nil; {
		if s.Summary != nil {
			if raw, ok := s.Summary.Properties[PropFiles]; ok {
				var files []FileEntry
				if err := json.Unmarshal([]byte(raw), &files); err != nil {
					return nil, fmt.Errorf("ledger of %s, snapshot %d: %w", tbl.Identifier(), s.SnapshotID, err)
				}
				for _, f := range files {
					if _, seen := out[f.Key]; !seen {
						out[f.Key] = Committed{FileEntry: f, RunID: s.Summary.Properties[PropRunID], SnapshotID: s.SnapshotID}
					}
				}
			}
		}
		if s.ParentSnapshotID == nil {
			break
		}
		s = meta.SnapshotByID(*s.ParentSnapshotID)
	}
	return out, nil
}

// WatermarkKey is the summary property recording, on a table derived from
// bronze.<feed>, the bronze snapshot id consumed up to (inclusive).
func WatermarkKey(feed string) string { return "adlake.watermark." + feed }

// Watermark returns the bronze snapshot id that tbl has consumed of feed:
// the value of WatermarkKey(feed) in the newest snapshot of tbl's current
// branch that carries it; 0 when none does.
func Watermark(tbl *table.Table, feed string) (int64, error) {
	key := WatermarkKey(feed)
	meta := tbl.Metadata()
	for s := meta.CurrentSnapshot(); s != nil; {
		if s.Summary != nil {
			if v, ok := s.Summary.Properties[key]; ok {
				var id int64
				if _, err := fmt.Sscan(v, &id); err != nil {
					return 0, fmt.Errorf("%s of %s, snapshot %d: %w", key, tbl.Identifier(), s.SnapshotID, err)
				}
				return id, nil
			}
		}
		if s.ParentSnapshotID == nil {
			break
		}
		s = meta.SnapshotByID(*s.ParentSnapshotID)
	}
	return 0, nil
}

// Ancestry returns the snapshots of tbl's current branch, oldest first.
func Ancestry(tbl *table.Table) []table.Snapshot {
	meta := tbl.Metadata()
	var out []table.Snapshot
	for s := meta.CurrentSnapshot(); s != nil; {
		out = append(out, *s)
		if s.ParentSnapshotID == nil {
			break
		}
		s = meta.SnapshotByID(*s.ParentSnapshotID)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
