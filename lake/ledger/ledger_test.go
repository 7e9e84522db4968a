package ledger

import "testing"

func TestCheckSummaryPropsRoundTrip(t *testing.T) {
	props, err := SummaryProps("ingest", "r1", []FileEntry{{Key: "a", Size: 1, Rows: 2, Rejects: 3}})
	if err != nil {
		t.Fatal(err)
	}
	if props[PropRunID] != "r1" || props[PropFiles] != `[{"k":"a","s":1,"r":2,"q":3}]` {
		t.Fatalf("props %v", props)
	}
}
