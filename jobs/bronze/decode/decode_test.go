package decode

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/schema"
)

// collector is an Emitter that keeps rows as column->value strings.
type collector struct {
	rows    []map[string]string
	rejects []Reject
}

func (c *collector) Batch(rec arrow.RecordBatch) error {
	defer rec.Release()
	for i := 0; i < int(rec.NumRows()); i++ {
		row := map[string]string{}
		for j, f := range rec.Schema().Fields() {
			col := rec.Column(j)
			if col.IsNull(i) {
				continue
			}
			row[f.Name] = col.ValueStr(i)
		}
		c.rows = append(c.rows, row)
	}
	return nil
}

func (c *collector) Reject(r Reject) error {
	r.Raw = append([]byte(nil), r.Raw...)
	c.rejects = append(c.rejects, r)
	return nil
}

func arrowSchema(t testing.TB, tbl schema.Table) *arrow.Schema {
	t.Helper()
	sc, err := table.SchemaToArrowSchema(tbl.Schema, nil, true, false)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

var testSource = Source{
	Key: "impressions/dt=2026-11-25/hr=13/a.json", Hour: time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC),
	RunID: "run-1", IngestedAt: time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC),
}

type decoder interface {
	Decode(context.Context, []byte) (*collector, Stats, error)
}

func decodeImpressions(t testing.TB, input string, alloc memory.Allocator) (*collector, Stats, error) {
	t.Helper()
	c := &collector{}
	st, err := NewImpressions(Options{BatchRows: 2, Alloc: alloc}).Decode(context.Background(),
		strings.NewReader(input), arrowSchema(t, schema.BronzeImpressions), testSource, c)
	return c, st, err
}

func TestImpressions(t *testing.T) {
	const good = `{"impression_id":"imp-1","ts":"2026-11-25T13:45:12.345Z","user_id":"u-1","creative_id":"cr-1",` +
		`"site":{"domain":"News.Example.com","page":"https://x/1"},"request_id":"br-1","win_price_cpm_micros":1850000,` +
		`"currency":"USD","device":{"type":"Mobile","ua":"UA","ip":"203.0.113.7"},"geo":{"country":"US","region":"CA"}}`
	cases := []struct {
		name    string
		input   string
		rows    int
		rejects []int64 // offsets of malformed rejects
		blank   int64
		check   map[string]string // column values of the first row
		absent  []string          // columns null in the first row
	}{
		{name: "full record", input: good + "\n", rows: 1, check: map[string]string{
			"impression_id": "imp-1", "ts": "2026-11-25T13:45:12.345Z", "win_price_cpm_micros": "1850000",
			"_source_file": testSource.Key, "_source_offset": "0", "_run_id": "run-1", "_landing_hr": "13", "_landing_dt": "2026-11-25",
		}, absent: []string{"_extra"}},
		{name: "epoch millis ts and numeric id", input: `{"impression_id":42,"ts":1732542312345,"creative_id":"c"}`, rows: 1,
			check: map[string]string{"impression_id": "42", "ts": "1732542312345"}, absent: []string{"user_id", "site", "win_price_cpm_micros"}},
		{name: "unknown fields kept", input: `{"impression_id":"a","viewability":0.7,"site":{"domain":"d","slot":"top"}}` + "\n", rows: 1,
			check: map[string]string{"_extra": `{"viewability":0.7,"site.slot":"top"}`}},
		{name: "integral float and numeric-string price", input: `{"impression_id":"a","win_price_cpm_micros":1.5e6}` + "\n" + `{"impression_id":"b","win_price_cpm_micros":"7"}`, rows: 2,
			check: map[string]string{"win_price_cpm_micros": "1500000"}},
		{name: "malformed lines", input: "{bad json\n[1,2]\n" + `{"impression_id":"a","win_price_cpm_micros":"x"}` + "\n" +
			`{"impression_id":"a","site":"d"}` + "\n" + "{\"impression_id\":\"\xff\"}\n" + `{"impression_id":"ok"}` + "\n",
			rows: 1, rejects: []int64{0, 10, 16, 65, 98}},
		{name: "blank lines and CRLF", input: "\n  \r\n" + `{"impression_id":"a"}` + "\r\n\n", rows: 1, blank: 3,
			check: map[string]string{"_source_offset": "5"}},
		{name: "empty file", input: "", rows: 0},
		{name: "null nested objects", input: `{"impression_id":"a","site":null,"device":null,"geo":null,"user_id":null}`, rows: 1, absent: []string{"site", "user_id"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer alloc.AssertSize(t, 0)
			got, st, err := decodeImpressions(t, c.input, alloc)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.rows) != c.rows || st.Rows != int64(c.rows) {
				t.Fatalf("rows = %d (stats %d), want %d", len(got.rows), st.Rows, c.rows)
			}
			if st.Blank != c.blank {
				t.Errorf("blank = %d, want %d", st.Blank, c.blank)
			}
			if len(got.rejects) != len(c.rejects) {
				t.Fatalf("rejects = %+v, want offsets %v", got.rejects, c.rejects)
			}
			for i, r := range got.rejects {
				if r.Offset != c.rejects[i] || r.Reason != ReasonMalformed || r.Records != 1 || len(r.Raw) == 0 {
					t.Errorf("reject %d = %+v, want offset %d", i, r, c.rejects[i])
				}
			}
			for k, v := range c.check {
				if got.rows[0][k] != v {
					t.Errorf("%s = %q, want %q", k, got.rows[0][k], v)
				}
			}
			for _, k := range c.absent {
				if v, ok := got.rows[0][k]; ok {
					t.Errorf("%s = %q, want null", k, v)
				}
			}
		})
	}
}

func TestImpressionsRejectDetail(t *testing.T) {
	got, _, err := decodeImpressions(t, `{"impression_id":"a","win_price_cpm_micros":true}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.rejects) != 1 || !strings.Contains(got.rejects[0].Detail, "win_price_cpm_micros") {
		t.Fatalf("rejects = %+v", got.rejects)
	}
}

func TestImpressionsLongLine(t *testing.T) {
	long := `{"impression_id":"` + strings.Repeat("x", MaxRecordBytes) + `"}`
	got, st, err := decodeImpressions(t, long+"\n"+`{"impression_id":"b"}`+"\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Rows != 1 || len(got.rejects) != 1 || got.rows[0]["_source_offset"] != fmt.Sprint(len(long)+1) {
		t.Fatalf("rows %d rejects %d offset %s", st.Rows, len(got.rejects), got.rows[0]["_source_offset"])
	}
	if n := len(got.rejects[0].Raw); n != MaxRawBytes {
		t.Fatalf("raw kept %d bytes, want %d", n, MaxRawBytes)
	}
}

type failingReader struct{ data *bytes.Reader }

func (f failingReader) Read(p []byte) (int, error) {
	n, err := f.data.Read(p)
	if err != nil {
		return n, fmt.Errorf("gzip: invalid checksum")
	}
	return n, nil
}

func TestImpressionsUnreadableRemainder(t *testing.T) {
	c := &collector{}
	input := `{"impression_id":"a"}` + "\n" + `{"impression_id":"b"}` + "\n" + `{"impr`
	st, err := NewImpressions(Options{}).Decode(context.Background(), failingReader{bytes.NewReader([]byte(input))},
		arrowSchema(t, schema.BronzeImpressions), testSource, c)
	if err == nil || !strings.Contains(err.Error(), "invalid checksum") {
		t.Fatalf("err = %v, want the read error", err)
	}
	if st.Rows != 2 {
		t.Fatalf("rows before the failure = %d, want 2", st.Rows)
	}
}

func decodeCSV(t testing.TB, input string) (*collector, Stats, error) {
	t.Helper()
	c := &collector{}
	st, err := NewClicksConversions(schema.ClicksConversionsColumns, Options{BatchRows: 3}).Decode(context.Background(),
		strings.NewReader(input), arrowSchema(t, schema.BronzeClicksConversions), testSource, c)
	return c, st, err
}

func TestClicksConversions(t *testing.T) {
	header := strings.Join(schema.ClicksConversionsColumns, ",")
	cases := []struct {
		name    string
		input   string
		rows    int
		rejects []int64
		raws    []string
		check   map[string]string
		absent  []string
	}{
		{name: "contract order", input: header + "\nev-1,click,2026-11-25 13:00:00,u-1,cmp-1,cr-1,,,,,d.com,UA,1.2.3.4\n", rows: 1,
			check:  map[string]string{"event_id": "ev-1", "event_type": "click", "site_domain": "d.com", "_source_offset": fmt.Sprint(len(header) + 1)},
			absent: []string{"conversion_type", "order_id", "_extra"}},
		{name: "reordered with extra column", input: "campaign_id,event_id,Event_Type ,event_ts,coupon\ncmp-1,ev-1,conversion,1732542312345,SAVE10\n", rows: 1,
			check: map[string]string{"event_id": "ev-1", "campaign_id": "cmp-1", "event_type": "conversion", "_extra": `{"coupon":"SAVE10"}`}},
		{name: "quoted fields", input: "event_id,user_agent\n\"ev,1\",\"Mozilla \"\"x\"\"\"\n", rows: 1,
			check: map[string]string{"event_id": "ev,1", "user_agent": `Mozilla "x"`}},
		{name: "wrong field count and bad quote", input: "event_id,event_type\na,click\nb\nc,click,extra\nd,\"bad\"quote\ne,click\n", rows: 2,
			rejects: []int64{28, 30, 44}, raws: []string{"b", "c,click,extra", `d,"bad"quote`}},
		{name: "header only", input: header + "\n", rows: 0},
		{name: "empty file", input: "", rows: 0},
		{name: "BOM and CRLF", input: "\ufeffevent_id,event_type\r\nx,click\r\n", rows: 1, check: map[string]string{"event_id": "x"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, st, err := decodeCSV(t, c.input)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.rows) != c.rows || st.Rows != int64(c.rows) {
				t.Fatalf("rows = %d, want %d (rejects %+v)", len(got.rows), c.rows, got.rejects)
			}
			if len(got.rejects) != len(c.rejects) {
				t.Fatalf("rejects = %+v, want offsets %v", got.rejects, c.rejects)
			}
			for i, r := range got.rejects {
				if r.Offset != c.rejects[i] || string(r.Raw) != c.raws[i] {
					t.Errorf("reject %d: offset %d raw %q, want %d %q", i, r.Offset, r.Raw, c.rejects[i], c.raws[i])
				}
			}
			for k, v := range c.check {
				if got.rows[0][k] != v {
					t.Errorf("%s = %q, want %q", k, got.rows[0][k], v)
				}
			}
			for _, k := range c.absent {
				if v, ok := got.rows[0][k]; ok {
					t.Errorf("%s = %q, want null", k, v)
				}
			}
		})
	}
}
