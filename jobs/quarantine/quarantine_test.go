package quarantine

import (
	"testing"

	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/schema"
)

// TestColumnOrder pins the positions Add writes to against the declared
// schema, so a schema change cannot silently shift columns.
func TestColumnOrder(t *testing.T) {
	want := []string{"feed", "source_file", "source_offset", "records", "stage", "reason", "detail",
		"raw", "raw_encoding", "landing_dt", "run_id", "quarantined_at"}
	sc, err := table.SchemaToArrowSchema(schema.Quarantine.Schema, nil, true, false)
	if err != nil {
		t.Fatal(err)
	}
	if sc.NumFields() != len(want) {
		t.Fatalf("%d fields, want %d", sc.NumFields(), len(want))
	}
	for i, name := range want {
		if got := sc.Field(i).Name; got != name {
			t.Errorf("field %d = %s, want %s", i, got, name)
		}
	}
}
