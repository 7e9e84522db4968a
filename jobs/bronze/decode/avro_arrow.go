package decode

import (
	"errors"

	"github.com/advertisex/adlake/schema"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// bidCols are the top-level builders of bronze.bid_requests; nested
// children are reached by position, which follows the schema declaration
// in package schema.
type bidCols struct {
	requestID, exchange, auctionType, writerSchema *array.StringBuilder
	eventTime                                      *array.TimestampBuilder
	tmax                                           *array.Int32Builder
	test, schain                                   *array.BooleanBuilder
	imps, bcat                                     *array.ListBuilder
	site, app, device, user, regs, bid             *array.StructBuilder
}

func bidBuilders(bt *batcher) (c bidCols, err error) {
	str := func(n string) *array.StringBuilder {
		b, e := field[*array.StringBuilder](bt, n)
		err = errors.Join(err, e)
		return b
	}
	st := func(n string) *array.StructBuilder {
		b, e := field[*array.StructBuilder](bt, n)
		err = errors.Join(err, e)
		return b
	}
	list := func(n string) *array.ListBuilder {
		b, e := field[*array.ListBuilder](bt, n)
		err = errors.Join(err, e)
		return b
	}
	boolean := func(n string) *array.BooleanBuilder {
		b, e := field[*array.BooleanBuilder](bt, n)
		err = errors.Join(err, e)
		return b
	}
	c.requestID, c.exchange, c.auctionType, c.writerSchema = str("request_id"), str("exchange"), str("auction_type"), str("_writer_schema")
	c.test, c.schain = boolean("test"), boolean("schain_complete")
	c.imps, c.bcat = list("imps"), list("bcat")
	c.site, c.app, c.device, c.user, c.regs, c.bid = st("site"), st("app"), st("device"), st("user"), st("regs"), st("bid")
	var e1, e2 error
	c.eventTime, e1 = field[*array.TimestampBuilder](bt, "event_time")
	c.tmax, e2 = field[*array.Int32Builder](bt, "tmax_ms")
	return c, errors.Join(err, e1, e2)
}

func (c *bidCols) append(r *schema.BidRequest, version string) {
	c.requestID.Append(r.RequestID)
	c.eventTime.Append(arrow.Timestamp(r.EventTime * 1000))
	c.exchange.Append(r.Exchange)
	c.auctionType.Append(r.AuctionType)
	optI32(c.tmax, r.TmaxMs)
	c.test.Append(r.Test)
	optBool(c.schain, r.SchainComplete)
	appendImps(c.imps, r.Imps)
	appendSite(c.site, r.Site)
	appendApp(c.app, r.App)
	appendDevice(c.device, r.Device)
	appendUser(c.user, r.User)
	appendRegs(c.regs, r.Regs)
	appendStrings(c.bcat, r.Bcat)
	appendBid(c.bid, r.Bid)
	c.writerSchema.Append(version)
}

func sb(s *array.StructBuilder, i int) *array.StringBuilder {
	return s.FieldBuilder(i).(*array.StringBuilder)
}
func optStr(b *array.StringBuilder, p *string) {
	if p == nil {
		b.AppendNull()
	} else {
		b.Append(*p)
	}
}
func optI32(b *array.Int32Builder, p *int32) {
	if p == nil {
		b.AppendNull()
	} else {
		b.Append(*p)
	}
}
func optF64(b *array.Float64Builder, p *float64) {
	if p == nil {
		b.AppendNull()
	} else {
		b.Append(*p)
	}
}
func optBool(b *array.BooleanBuilder, p *bool) {
	if p == nil {
		b.AppendNull()
	} else {
		b.Append(*p)
	}
}

func appendStrings(l *array.ListBuilder, v []string) {
	l.Append(true)
	vb := l.ValueBuilder().(*array.StringBuilder)
	for _, s := range v {
		vb.Append(s)
	}
}

func appendImps(l *array.ListBuilder, imps []schema.Imp) {
	l.Append(true)
	s := l.ValueBuilder().(*array.StructBuilder)
	for i := range imps {
		m := &imps[i]
		s.Append(true)
		sb(s, 0).Append(m.ImpID)
		optStr(sb(s, 1), m.TagID)
		sb(s, 2).Append(m.MediaType)
		s.FieldBuilder(3).(*array.Float64Builder).Append(m.BidFloorCPM)
		sb(s, 4).Append(m.BidFloorCur)
		bn := s.FieldBuilder(5).(*array.StructBuilder)
		if m.Banner == nil {
			bn.AppendNull()
		} else {
			bn.Append(true)
			bn.FieldBuilder(0).(*array.Int32Builder).Append(m.Banner.W)
			bn.FieldBuilder(1).(*array.Int32Builder).Append(m.Banner.H)
			optI32(bn.FieldBuilder(2).(*array.Int32Builder), m.Banner.Pos)
		}
		appendStrings(s.FieldBuilder(6).(*array.ListBuilder), m.DealIDs)
	}
}

func appendPublisher(s *array.StructBuilder, p *schema.Publisher) {
	if p == nil {
		s.AppendNull()
		return
	}
	s.Append(true)
	optStr(sb(s, 0), p.PublisherID)
	optStr(sb(s, 1), p.Name)
	optStr(sb(s, 2), p.Domain)
}

func appendSite(s *array.StructBuilder, v *schema.Site) {
	if v == nil {
		s.AppendNull()
		return
	}
	s.Append(true)
	optStr(sb(s, 0), v.SiteID)
	optStr(sb(s, 1), v.Domain)
	optStr(sb(s, 2), v.Page)
	appendStrings(s.FieldBuilder(3).(*array.ListBuilder), v.Cat)
	appendPublisher(s.FieldBuilder(4).(*array.StructBuilder), v.Publisher)
}

func appendApp(s *array.StructBuilder, v *schema.App) {
	if v == nil {
		s.AppendNull()
		return
	}
	s.Append(true)
	optStr(sb(s, 0), v.AppID)
	optStr(sb(s, 1), v.Bundle)
	optStr(sb(s, 2), v.StoreURL)
	appendStrings(s.FieldBuilder(3).(*array.ListBuilder), v.Cat)
	appendPublisher(s.FieldBuilder(4).(*array.StructBuilder), v.Publisher)
}

func appendDevice(s *array.StructBuilder, v *schema.Device) {
	if v == nil {
		s.AppendNull()
		return
	}
	s.Append(true)
	optStr(sb(s, 0), v.UA)
	optStr(sb(s, 1), v.IP)
	sb(s, 2).Append(v.DeviceType)
	optStr(sb(s, 3), v.Make)
	optStr(sb(s, 4), v.Model)
	optStr(sb(s, 5), v.OS)
	optStr(sb(s, 6), v.OSV)
	optStr(sb(s, 7), v.IFA)
	optBool(s.FieldBuilder(8).(*array.BooleanBuilder), v.LMT)
	g := s.FieldBuilder(9).(*array.StructBuilder)
	if v.Geo == nil {
		g.AppendNull()
		return
	}
	g.Append(true)
	optStr(sb(g, 0), v.Geo.Country)
	optStr(sb(g, 1), v.Geo.Region)
	optStr(sb(g, 2), v.Geo.City)
	optStr(sb(g, 3), v.Geo.Zip)
	optF64(g.FieldBuilder(4).(*array.Float64Builder), v.Geo.Lat)
	optF64(g.FieldBuilder(5).(*array.Float64Builder), v.Geo.Lon)
	optI32(g.FieldBuilder(6).(*array.Int32Builder), v.Geo.UTCOffsetMin)
}

func appendUser(s *array.StructBuilder, v *schema.User) {
	if v == nil {
		s.AppendNull()
		return
	}
	s.Append(true)
	optStr(sb(s, 0), v.UserID)
	optStr(sb(s, 1), v.BuyerUID)
	optStr(sb(s, 2), v.Consent)
	l := s.FieldBuilder(3).(*array.ListBuilder)
	l.Append(true)
	seg := l.ValueBuilder().(*array.StructBuilder)
	for _, x := range v.Segments {
		seg.Append(true)
		sb(seg, 0).Append(x.Provider)
		sb(seg, 1).Append(x.SegmentID)
	}
}

func appendRegs(s *array.StructBuilder, v *schema.Regs) {
	if v == nil {
		s.AppendNull()
		return
	}
	s.Append(true)
	s.FieldBuilder(0).(*array.BooleanBuilder).Append(v.COPPA)
	optBool(s.FieldBuilder(1).(*array.BooleanBuilder), v.GDPR)
	optStr(sb(s, 2), v.USPrivacy)
	optStr(sb(s, 3), v.GPP)
}

func appendBid(s *array.StructBuilder, v *schema.Bid) {
	if v == nil {
		s.AppendNull()
		return
	}
	s.Append(true)
	sb(s, 0).Append(v.ImpID)
	s.FieldBuilder(1).(*array.Int64Builder).Append(v.PriceMicros)
	sb(s, 2).Append(v.Currency)
	sb(s, 3).Append(v.CampaignID)
	sb(s, 4).Append(v.CreativeID)
	optStr(sb(s, 5), v.DealID)
	optF64(s.FieldBuilder(6).(*array.Float64Builder), v.BidShadingFactor)
}
