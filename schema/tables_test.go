package schema

import (
	"testing"

	"github.com/apache/iceberg-go/table"
)

func TestTablesConvertToArrowAndPartition(t *testing.T) {
	for _, tbl := range All() {
		t.Run(tbl.String(), func(t *testing.T) {
			if _, err := table.SchemaToArrowSchema(tbl.Schema, nil, true, false); err != nil {
				t.Fatalf("arrow schema: %v", err)
			}
			spec, err := tbl.Spec()
			if err != nil {
				t.Fatal(err)
			}
			if got := spec.NumFields(); got != len(tbl.PartitionBy) {
				t.Fatalf("partition fields = %d, want %d", got, len(tbl.PartitionBy))
			}
		})
	}
}

func TestBronzeTablesEndWithLineage(t *testing.T) {
	lineage := Lineage()
	for _, f := range Feeds {
		feed, tbl := f.Name, f.Bronze
		fields := tbl.Schema.Fields()
		tail := fields[len(fields)-len(lineage):]
		for i, f := range tail {
			if f.Name != lineage[i].Name {
				t.Errorf("%s: column %d = %q, want %q", feed, len(fields)-len(lineage)+i, f.Name, lineage[i].Name)
			}
		}
	}
}

func TestFieldIDsAreStable(t *testing.T) {
	// IDs are part of the on-disk contract: renumbering breaks every reader.
	cases := []struct {
		tbl  Table
		name string
		id   int
	}{
		{BronzeImpressions, "impression_id", 1},
		{BronzeImpressions, "site.domain", 6},
		{BronzeClicksConversions, "event_id", 1},
		{BronzeClicksConversions, "ip", 13},
		{BronzeBidRequests, "request_id", 1},
	}
	for _, c := range cases {
		f, ok := c.tbl.Schema.FindFieldByName(c.name)
		if !ok {
			t.Fatalf("%s: no field %s", c.tbl, c.name)
		}
		if f.ID != c.id {
			t.Errorf("%s.%s: id %d, want %d", c.tbl, c.name, f.ID, c.id)
		}
	}
}

func TestBidRequestContracts(t *testing.T) {
	for _, v := range []int{1, 2} {
		if s, err := BidRequestContract(v); err != nil || len(s) < 1000 {
			t.Fatalf("contract v%d: %v (len %d)", v, err, len(s))
		}
	}
	if _, err := BidRequestContract(3); err == nil {
		t.Fatal("contract v3 should not exist")
	}
}
