package catalog

import "testing"

func TestRedact(t *testing.T) {
	cases := map[string]string{
		"postgres://adlake:secret@db:5432/cat": "postgres://adlake:***@db:5432/cat",
		"postgres://adlake@db/cat":             "postgres://adlake@db/cat",
		"./lakehouse/catalog.db":               "./lakehouse/catalog.db",
	}
	for in, want := range cases {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckSummaryPropsRoundTrip(t *testing.T) {
	props, err := SummaryProps("ingest", "r1", []FileEntry{{Key: "a", Size: 1, Rows: 2, Rejects: 3}})
	if err != nil {
		t.Fatal(err)
	}
	if props[PropRunID] != "r1" || props[PropFiles] != `[{"k":"a","s":1,"r":2,"q":3}]` {
		t.Fatalf("props %v", props)
	}
}
