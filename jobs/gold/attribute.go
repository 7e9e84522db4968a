package gold

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cespare/xxhash/v2"
)

// Windows are the attribution lookbacks of SPEC §3. Each bound is
// inclusive: a touch exactly a window before the event still counts.
type Windows struct {
	// ClickToImpression: a click matches the latest impression at most
	// this long before it (default 24h).
	ClickToImpression time.Duration
	// ConversionToClick: a conversion is credited to the latest click at
	// most this long before it (default 7 days).
	ConversionToClick time.Duration
	// ConversionToView: failing a click, to the latest impression at most
	// this long before it (default 24h).
	ConversionToView time.Duration
}

// DefaultWindows are the SPEC's defaults: 24 h, 7 days, 24 h.
var DefaultWindows = Windows{ClickToImpression: 24 * time.Hour, ConversionToClick: 7 * 24 * time.Hour, ConversionToView: 24 * time.Hour}

// WithDefaults returns w with each unset (non-positive) window set to its
// DefaultWindows value: the windows Build, Attribute and Stale use.
func (w Windows) WithDefaults() Windows {
	if w.ClickToImpression <= 0 {
		w.ClickToImpression = DefaultWindows.ClickToImpression
	}
	if w.ConversionToClick <= 0 {
		w.ConversionToClick = DefaultWindows.ConversionToClick
	}
	if w.ConversionToView <= 0 {
		w.ConversionToView = DefaultWindows.ConversionToView
	}
	return w
}

// lookbackDays returns how many days before a conversion date D the
// clicks and impressions it may be credited to can fall: clicks D-c..D,
// impressions D-i..D (a click's own impression may be ClickToImpression
// before the click).
func (w Windows) lookbackDays() (clicks, impressions int) {
	days := func(d time.Duration) int { return int((d + 24*time.Hour - 1) / (24 * time.Hour)) }
	clicks = days(w.ConversionToClick)
	impressions = max(days(w.ConversionToClick+w.ClickToImpression), days(w.ConversionToView))
	return clicks, impressions
}

// Attribution values (gold.attributed_conversions.attribution).
const (
	AttrClick = "click"
	AttrView  = "view"
	AttrNone  = "none"
)

// opt is a nullable value.
type opt[T any] struct {
	V  T
	OK bool
}

func some[T any](v T) opt[T] { return opt[T]{V: v, OK: true} }

// attributed is one conversion with its attribution, as the walk finds it:
// the content of a schema.AttributedConversionRow (attributedRows makes
// one), without event date and lineage. Timestamps are microseconds since
// the Unix epoch, UTC.
type attributed struct {
	ConversionID   string
	ConversionTS   int64
	CampaignID     string
	AdvertiserID   opt[string]
	UserKey        opt[string]
	ConversionType string
	ValueUSD       opt[float64]
	Attribution    string
	ClickID        opt[string]
	ClickTS        opt[int64]
	ImpressionID   opt[string]
	ImpressionTS   opt[int64]
	CreativeID     opt[string]
	SiteDomain     opt[string]
	Seconds        opt[int64]
}

// Sort keys. Every event of the three streams is keyed
//
//	xxhash64(user, campaign) (8 bytes, big-endian) | uvarint len(user) | user
//	| uvarint len(campaign) | campaign | event_ts (8 bytes, sign-flipped big-endian) | id
//
// so bytes.Compare orders by (user, campaign) group — in hash order, which
// is all the merge needs: the same order in every stream — then event
// time, then id. The group prefix is prefix-free, so a key's order is
// decided inside it whenever the groups differ, and the id, being last,
// compares as a string.

func groupHash(user, campaign string) uint64 {
	var d xxhash.Digest
	d.Reset()
	d.WriteString(user)
	d.Write([]byte{0})
	d.WriteString(campaign)
	return d.Sum64()
}

func appendKey(b []byte, h uint64, user, campaign string, ts int64, id string) []byte {
	b = binary.BigEndian.AppendUint64(b, h)
	b = binary.AppendUvarint(b, uint64(len(user)))
	b = append(b, user...)
	b = binary.AppendUvarint(b, uint64(len(campaign)))
	b = append(b, campaign...)
	b = binary.BigEndian.AppendUint64(b, uint64(ts)^(1<<63))
	return append(b, id...)
}

var errCorrupt = errors.New("corrupt sort row")

// keyParts splits a key: the group prefix, user, campaign, ts, id.
func keyParts(k []byte) (group, user, campaign []byte, ts int64, id []byte, err error) {
	if len(k) < 8 {
		return nil, nil, nil, 0, nil, errCorrupt
	}
	p := 8
	var parts [2][]byte
	for i := range parts {
		l, n := binary.Uvarint(k[p:])
		if n <= 0 || uint64(len(k)-p-n) < l {
			return nil, nil, nil, 0, nil, errCorrupt
		}
		p += n
		parts[i] = k[p : p+int(l)]
		p += int(l)
	}
	if len(k)-p < 8 {
		return nil, nil, nil, 0, nil, errCorrupt
	}
	ts = int64(binary.BigEndian.Uint64(k[p:]) ^ (1 << 63))
	return k[:p], parts[0], parts[1], ts, k[p+8:], nil
}

// Values: a sequence of fields, each a flag byte (0 null, 1 set) and for
// strings a uvarint length and the bytes, for float64 its 8 bytes.

func appendStr(b []byte, s string, ok bool) []byte {
	if !ok {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendF64(b []byte, f float64, ok bool) []byte {
	if !ok {
		return append(b, 0)
	}
	return binary.LittleEndian.AppendUint64(append(b, 1), math.Float64bits(f))
}

// valueReader decodes a value; the first error sticks.
type valueReader struct {
	b   []byte
	err error
}

func (r *valueReader) flag() bool {
	if r.err != nil || len(r.b) == 0 {
		r.err = errCorrupt
		return false
	}
	f := r.b[0]
	r.b = r.b[1:]
	return f == 1
}

func (r *valueReader) str() opt[string] {
	b, ok := r.bytes()
	if !ok {
		return opt[string]{}
	}
	return some(string(b))
}

// bytes reads a string field without copying it: the bytes are valid as
// long as the value is.
func (r *valueReader) bytes() ([]byte, bool) {
	if !r.flag() {
		return nil, false
	}
	l, n := binary.Uvarint(r.b)
	if n <= 0 || uint64(len(r.b)-n) < l {
		r.err = errCorrupt
		return nil, false
	}
	b := r.b[n : n+int(l)]
	r.b = r.b[n+int(l):]
	return b, true
}

func (r *valueReader) f64() opt[float64] {
	if !r.flag() {
		return opt[float64]{}
	}
	if len(r.b) < 8 {
		r.err = errCorrupt
		return opt[float64]{}
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return some(f)
}

// Stream values:
//   - impression: creative_id, site_domain
//   - click: creative_id, site_domain
//   - conversion: advertiser_id, conversion_type, conversion_value_usd

func impressionValue(b []byte, creative, site opt[string]) []byte {
	return appendStr(appendStr(b, creative.V, creative.OK), site.V, site.OK)
}

func conversionValue(b []byte, advertiser opt[string], typ string, value opt[float64]) []byte {
	b = appendStr(b, advertiser.V, advertiser.OK)
	b = appendStr(b, typ, true)
	return appendF64(b, value.V, value.OK)
}

// rowIter is what the walk reads: a sorted stream of keyed rows
// (SortedRows, or a slice in tests).
type rowIter interface {
	Next() bool
	Key() []byte
	Value() []byte
	Err() error
}

// head is the current row of one stream, decoded.
type head struct {
	it     rowIter
	rank   int // impressions 0, clicks 1, conversions 2: the order at equal time
	live   bool
	group  []byte
	user   []byte
	camp   []byte
	ts     int64
	id     []byte
	val    []byte
	rowErr error
}

func (h *head) advance() error {
	h.live = h.it.Next()
	if !h.live {
		return h.it.Err()
	}
	var err error
	h.group, h.user, h.camp, h.ts, h.id, err = keyParts(h.it.Key())
	if err != nil {
		return err
	}
	h.val = h.it.Value()
	return nil
}

// before reports whether h comes before o in the merge order: group, then
// event time, then stream rank (impressions before clicks before
// conversions, so a touch at the same instant counts as "at or before").
func (h *head) before(o *head) bool {
	if !o.live {
		return true
	}
	if c := bytes.Compare(h.group, o.group); c != 0 {
		return c < 0
	}
	if h.ts != o.ts {
		return h.ts < o.ts
	}
	return h.rank < o.rank
}

// touch is a remembered impression or click of the current group. Its
// byte fields are buffers reused from touch to touch: the walk allocates
// only for the conversions it emits.
type touch struct {
	set            bool
	ts             int64
	id             []byte
	creative, site field
	// clicks only: the impression the click matched
	imp touchRef
}

type touchRef struct {
	set            bool
	ts             int64
	id             []byte
	creative, site field
}

// field is a remembered nullable string.
type field struct {
	b  []byte
	ok bool
}

// set copies b (null when !ok) into f.
func (f *field) set(b []byte, ok bool) { f.b, f.ok = append(f.b[:0], b...), ok }

// opt returns f as a string.
func (f *field) opt() opt[string] {
	if !f.ok {
		return opt[string]{}
	}
	return some(string(f.b))
}

func (t *touch) remember(h *head) error {
	t.set = true
	t.ts = h.ts
	t.id = append(t.id[:0], h.id...)
	r := valueReader{b: h.val}
	t.creative.set(r.bytes())
	t.site.set(r.bytes())
	return r.err
}

// walk merges the three sorted streams group by group and calls emit for
// every conversion, with its attribution (SPEC §3):
//   - a click matches the latest impression of its group at or before it,
//     at most w.ClickToImpression earlier;
//   - a conversion is credited to the latest click of its group at or
//     before it, at most w.ConversionToClick earlier (click), else to the
//     latest impression at most w.ConversionToView earlier (view), else
//     none.
//
// Within a stream rows of one group come in (time, id) order, so the
// "latest" touch is the last one seen, and of several at the same time the
// one with the greatest id. State per group is one impression and one
// click, so memory does not depend on the input.
func walk(ctx context.Context, w Windows, imps, clicks, convs rowIter, emit func(attributed) error) error {
	hs := [3]*head{{it: imps, rank: 0}, {it: clicks, rank: 1}, {it: convs, rank: 2}}
	for _, h := range hs {
		if err := h.advance(); err != nil {
			return fmt.Errorf("attribution: %w", err)
		}
	}
	var group []byte
	var lastImp, lastClick touch
	ci, cc, cv := w.ClickToImpression.Microseconds(), w.ConversionToClick.Microseconds(), w.ConversionToView.Microseconds()
	for n := 0; ; n++ {
		if n&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		var h *head
		for _, c := range hs {
			if c.live && (h == nil || c.before(h)) {
				h = c
			}
		}
		if h == nil {
			return nil
		}
		if !bytes.Equal(group, h.group) {
			group = append(group[:0], h.group...)
			lastImp.set, lastClick.set = false, false
		}
		switch h.rank {
		case 0:
			if err := lastImp.remember(h); err != nil {
				return fmt.Errorf("attribution: impression row: %w", err)
			}
		case 1:
			if err := lastClick.remember(h); err != nil {
				return fmt.Errorf("attribution: click row: %w", err)
			}
			lastClick.imp.set = lastImp.set && h.ts-lastImp.ts <= ci
			if lastClick.imp.set {
				lastClick.imp.ts = lastImp.ts
				lastClick.imp.id = append(lastClick.imp.id[:0], lastImp.id...)
				lastClick.imp.creative.set(lastImp.creative.b, lastImp.creative.ok)
				lastClick.imp.site.set(lastImp.site.b, lastImp.site.ok)
			}
		case 2:
			a, err := attribute(h, &lastImp, &lastClick, cc, cv)
			if err != nil {
				return err
			}
			if err := emit(a); err != nil {
				return err
			}
		}
		if err := h.advance(); err != nil {
			return fmt.Errorf("attribution: %w", err)
		}
	}
}

func attribute(h *head, imp, click *touch, cc, cv int64) (attributed, error) {
	r := valueReader{b: h.val}
	a := attributed{ConversionID: string(h.id), ConversionTS: h.ts, CampaignID: string(h.camp), UserKey: some(string(h.user)),
		AdvertiserID: r.str(), ConversionType: r.str().V, ValueUSD: r.f64(), Attribution: AttrNone}
	if r.err != nil {
		return a, fmt.Errorf("attribution: conversion row: %w", r.err)
	}
	switch {
	case click.set && h.ts-click.ts <= cc:
		a.Attribution = AttrClick
		a.ClickID, a.ClickTS = some(string(click.id)), some(click.ts)
		a.Seconds = some((h.ts - click.ts) / 1e6)
		a.CreativeID, a.SiteDomain = click.creative.opt(), click.site.opt()
		if click.imp.set {
			a.ImpressionID, a.ImpressionTS = some(string(click.imp.id)), some(click.imp.ts)
			if !a.CreativeID.OK {
				a.CreativeID = click.imp.creative.opt()
			}
			if !a.SiteDomain.OK {
				a.SiteDomain = click.imp.site.opt()
			}
		}
	case imp.set && h.ts-imp.ts <= cv:
		a.Attribution = AttrView
		a.ImpressionID, a.ImpressionTS = some(string(imp.id)), some(imp.ts)
		a.Seconds = some((h.ts - imp.ts) / 1e6)
		a.CreativeID, a.SiteDomain = imp.creative.opt(), imp.site.opt()
	}
	return a, nil
}
