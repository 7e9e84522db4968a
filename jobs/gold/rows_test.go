package gold

import (
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/lake/rows"
	"github.com/advertisex/adlake/schema"
)

// checkRowType checks that T binds to tb's declared schema and names every
// column of it.
func checkRowType[T any](t *testing.T, tb schema.Table) {
	t.Helper()
	sc, err := table.SchemaToArrowSchema(tb.Schema, nil, true, false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := rows.NewBuilder[T](memory.DefaultAllocator, sc)
	if err != nil {
		t.Errorf("%s: %v", tb, err)
		return
	}
	b.Release()
	if n, want := reflect.TypeFor[T]().NumField(), len(tb.Schema.Fields()); n != want {
		t.Errorf("%s: %s has %d fields, the table %d columns", tb, reflect.TypeFor[T](), n, want)
	}
}

func TestRowTypesMatchGoldTables(t *testing.T) {
	checkRowType[schema.AttributedConversionRow](t, schema.GoldAttributedConversions)
	checkRowType[schema.CampaignDailyRow](t, schema.GoldCampaignDaily)
	checkRowType[schema.BidFunnelDailyRow](t, schema.GoldBidFunnelDaily)
}
