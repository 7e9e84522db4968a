package gold

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	icebergio "github.com/apache/iceberg-go/io"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/schema"
)

// result is what a build computed for one date.
type result struct {
	day        arrow.Date32
	inputs     map[string]int64 // snapshot ids read, by table name (PropInputs)
	attributed []attributed     // in conversion id order
	campaigns  map[string]*campaignAgg
	funnel     []*funnelAgg // one per exchange, in order of appearance
}

// computation is the state of one compute: the inputs pinned to their
// snapshots, the three attribution sorts and the result so far. Its steps
// run in order: readConversions, readClicks, readBids, readImpressions
// (each step relies on those before it), merge, tally.
type computation struct {
	o     Options
	day   arrow.Date32
	marts bool // compute the marts, not only the attribution
	ins   map[string]input
	fs    icebergio.IO
	dir   string // spill folder, removed by close
	res   *result
	rep   *Report
	// The attribution sorts, each keyed (group, time, id).
	imps, clicks, convs *Sorter
	// groups holds the (user, campaign) groups with a click or
	// conversion: the impressions' semi-join.
	groups *hashIndex
	// bids maps the hash of a request id with a bid to the position of its
	// exchange in res.funnel (marts only).
	bids     *hashIndex
	key, val []byte // scratch
}

// compute reads the silver partitions day needs and derives the gold rows;
// with marts false only the attribution.
func compute(ctx context.Context, cat catalog.Loader, day arrow.Date32, o Options, marts bool, rep *Report) (*result, error) {
	c, err := newComputation(ctx, cat, day, o, marts, rep)
	if err != nil {
		return nil, err
	}
	defer c.close()
	for _, step := range []func(context.Context) error{c.readConversions, c.readClicks, c.readBids, c.readImpressions, c.merge} {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	c.tally()
	return c.res, nil
}

// newComputation pins the inputs to their current snapshots (recorded in
// rep.Inputs) and makes the spill folder and the sorts, which close
// removes.
func newComputation(ctx context.Context, cat catalog.Loader, day arrow.Date32, o Options, marts bool, rep *Report) (*computation, error) {
	res := &result{day: day, inputs: map[string]int64{}, campaigns: map[string]*campaignAgg{}}
	ins := map[string]input{}
	for _, t := range inputTables {
		tbl, err := cat.Load(ctx, t)
		if err != nil {
			return nil, err
		}
		in := input{t: t, tbl: tbl}
		if s := tbl.CurrentSnapshot(); s != nil {
			in.snap = s.SnapshotID
		}
		ins[t.String()], res.inputs[t.String()] = in, in.snap
	}
	rep.Inputs = res.inputs
	fs, err := ins[schema.SilverImpressions.String()].tbl.FS(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(o.SpillDir, "adlake-gold-*")
	if err != nil {
		return nil, fmt.Errorf("spill folder: %w", err)
	}
	sorter := func(budget int64) *Sorter { return NewSorter(SorterOptions{MemoryBudget: budget, Dir: dir}) }
	return &computation{o: o, day: day, marts: marts, ins: ins, fs: fs, dir: dir, res: res, rep: rep,
		// Clicks and conversions are a few percent of impressions.
		imps: sorter(o.MemoryBudget * 6 / 8), clicks: sorter(o.MemoryBudget / 8), convs: sorter(o.MemoryBudget / 8),
		groups: newHashIndex(1 << 16)}, nil
}

// close removes the sorts' spill files and the spill folder.
func (c *computation) close() {
	for _, s := range []*Sorter{c.imps, c.clicks, c.convs} {
		s.Close()
	}
	os.RemoveAll(c.dir)
}

// campaign returns the mart aggregate of campaign id, adding it when new.
func (c *computation) campaign(id string) *campaignAgg {
	a := c.res.campaigns[id]
	if a == nil {
		a = &campaignAgg{}
		c.res.campaigns[strings.Clone(id)] = a
	}
	return a
}

// merge walks the three sorts together (walk), collecting the attributed
// conversions, and adds the sorts' counters to the report.
func (c *computation) merge(ctx context.Context) error {
	sorts := []*Sorter{c.imps, c.clicks, c.convs}
	streams := make([]*SortedRows, 0, len(sorts))
	defer func() {
		for _, s := range streams {
			s.Close()
		}
	}()
	for _, s := range sorts {
		rows, err := s.Rows(ctx)
		if err != nil {
			return err
		}
		streams = append(streams, rows)
	}
	err := walk(ctx, c.o.Windows, streams[0], streams[1], streams[2], func(a attributed) error {
		c.res.attributed = append(c.res.attributed, a)
		return nil
	})
	if err != nil {
		return err
	}
	for _, s := range sorts {
		c.rep.Sort.Add(s.Stats())
	}
	return nil
}

// tally puts the attributed conversions in conversion id order, counts
// them by attribution in the report and, with marts, credits them to their
// campaigns.
func (c *computation) tally() {
	at := c.res.attributed
	sort.Slice(at, func(a, b int) bool { return at[a].ConversionID < at[b].ConversionID })
	c.rep.Attribution = map[string]int64{AttrClick: 0, AttrView: 0, AttrNone: 0}
	for i := range at {
		c.rep.Attribution[at[i].Attribution]++
		if c.marts {
			c.res.campaigns[at[i].CampaignID].credit(&at[i])
		}
	}
}
