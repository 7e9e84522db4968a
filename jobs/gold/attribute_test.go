package gold

import (
	"context"
	"testing"
	"time"
)

// ev is a hand-built silver event for the walk.
type ev struct {
	user, campaign, id string
	at                 string // offset from base, a time.ParseDuration string
	creative           string // "" = null
}

var base = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func at(t *testing.T, d string) int64 {
	t.Helper()
	dur, err := time.ParseDuration(d)
	if err != nil {
		t.Fatal(err)
	}
	return base.Add(dur).UnixMicro()
}

func optOf(s string) opt[string] { return opt[string]{V: s, OK: s != ""} }

// stream sorts events through a Sorter, as Build does.
func stream(t *testing.T, evs []ev, conv bool) *SortedRows {
	t.Helper()
	s := NewSorter(SorterOptions{MemoryBudget: 512, Dir: t.TempDir()}) // tiny: spills
	t.Cleanup(func() { s.Close() })
	var k, v []byte
	for _, e := range evs {
		k = appendKey(k[:0], groupHash(e.user, e.campaign), e.user, e.campaign, at(t, e.at), e.id)
		if conv {
			v = conversionValue(v[:0], some("adv-1"), "purchase", some(12.5))
		} else {
			v = impressionValue(v[:0], optOf(e.creative), some("site-"+e.id))
		}
		if err := s.Add(k, v); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := s.Rows(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rows.Close)
	return rows
}

// want is the expected attribution of one conversion.
type want struct {
	attr, click, imp string
	seconds          int64 // -1 = null
	creative         string
}

func TestWalk(t *testing.T) {
	const u, c = "user-1", "cmp-1"
	cases := []struct {
		name                string
		imps, clicks, convs []ev
		want                map[string]want
	}{
		{name: "click with its impression",
			imps:   []ev{{u, c, "i1", "0s", "cr-i"}},
			clicks: []ev{{u, c, "k1", "10s", "cr-k"}},
			convs:  []ev{{u, c, "v1", "1h", ""}},
			want:   map[string]want{"v1": {AttrClick, "k1", "i1", 3590, "cr-k"}}},
		{name: "click exactly 7 days before",
			clicks: []ev{{u, c, "k1", "0s", "cr-k"}},
			convs:  []ev{{u, c, "v1", "168h", ""}},
			want:   map[string]want{"v1": {AttrClick, "k1", "", 604800, "cr-k"}}},
		{name: "click 7 days and 1µs before: none",
			clicks: []ev{{u, c, "k1", "0s", "cr-k"}},
			convs:  []ev{{u, c, "v1", "168h0.000001s", ""}},
			want:   map[string]want{"v1": {AttrNone, "", "", -1, ""}}},
		{name: "click's impression exactly 24 h before it",
			imps:   []ev{{u, c, "i1", "0s", "cr-i"}},
			clicks: []ev{{u, c, "k1", "24h", ""}},
			convs:  []ev{{u, c, "v1", "25h", ""}},
			want:   map[string]want{"v1": {AttrClick, "k1", "i1", 3600, "cr-i"}}},
		{name: "click's impression 24 h and 1µs before it: no impression",
			imps:   []ev{{u, c, "i1", "0s", "cr-i"}},
			clicks: []ev{{u, c, "k1", "24h0.000001s", ""}},
			convs:  []ev{{u, c, "v1", "25h", ""}},
			want:   map[string]want{"v1": {AttrClick, "k1", "", 3599, ""}}},
		{name: "view exactly 1 day",
			imps:  []ev{{u, c, "i1", "0s", "cr-i"}},
			convs: []ev{{u, c, "v1", "24h", ""}},
			want:  map[string]want{"v1": {AttrView, "", "i1", 86400, "cr-i"}}},
		{name: "view 1 day and 1µs: none",
			imps:  []ev{{u, c, "i1", "0s", "cr-i"}},
			convs: []ev{{u, c, "v1", "24h0.000001s", ""}},
			want:  map[string]want{"v1": {AttrNone, "", "", -1, ""}}},
		{name: "stale click, fresh impression: view",
			imps:   []ev{{u, c, "i2", "200h", "cr-i"}},
			clicks: []ev{{u, c, "k1", "0s", ""}},
			convs:  []ev{{u, c, "v1", "201h", ""}},
			want:   map[string]want{"v1": {AttrView, "", "i2", 3600, "cr-i"}}},
		{name: "ties go to the greatest id",
			imps:   []ev{{u, c, "i-b", "0s", "b"}, {u, c, "i-c", "0s", "c"}, {u, c, "i-a", "0s", "a"}},
			clicks: []ev{{u, c, "k-a", "5s", ""}, {u, c, "k-z", "5s", ""}, {u, c, "k-m", "5s", ""}},
			convs:  []ev{{u, c, "v1", "10s", ""}},
			want:   map[string]want{"v1": {AttrClick, "k-z", "i-c", 5, "c"}}},
		{name: "view ties go to the greatest id",
			imps:  []ev{{u, c, "i-2", "0s", ""}, {u, c, "i-10", "0s", ""}},
			convs: []ev{{u, c, "v1", "10s", ""}},
			want:  map[string]want{"v1": {AttrView, "", "i-2", 10, ""}}},
		{name: "latest click and latest impression win",
			imps:   []ev{{u, c, "i1", "0s", ""}, {u, c, "i2", "1h", ""}, {u, c, "i3", "3h", ""}},
			clicks: []ev{{u, c, "k1", "30m", ""}, {u, c, "k2", "2h", ""}},
			convs:  []ev{{u, c, "v1", "4h", ""}},
			want:   map[string]want{"v1": {AttrClick, "k2", "i2", 7200, ""}}},
		{name: "same instant counts as before",
			imps:   []ev{{u, c, "i1", "0s", ""}},
			clicks: []ev{{u, c, "k1", "0s", ""}},
			convs:  []ev{{u, c, "v1", "0s", ""}},
			want:   map[string]want{"v1": {AttrClick, "k1", "i1", 0, ""}}},
		{name: "later touches do not count",
			imps:   []ev{{u, c, "i1", "2h", ""}},
			clicks: []ev{{u, c, "k1", "1h", ""}},
			convs:  []ev{{u, c, "v0", "30m", ""}, {u, c, "v1", "90m", ""}},
			want:   map[string]want{"v0": {AttrNone, "", "", -1, ""}, "v1": {AttrClick, "k1", "", 1800, ""}}},
		{name: "other user or campaign does not count",
			imps:   []ev{{"user-2", c, "i1", "0s", ""}, {u, "cmp-2", "i2", "0s", ""}},
			clicks: []ev{{"user-2", c, "k1", "1s", ""}, {u, "cmp-2", "k2", "1s", ""}},
			convs:  []ev{{u, c, "v1", "1h", ""}, {u, "cmp-2", "v2", "1h", ""}},
			want:   map[string]want{"v1": {AttrNone, "", "", -1, ""}, "v2": {AttrClick, "k2", "i2", 3599, ""}}},
		{name: "seconds truncate",
			imps:  []ev{{u, c, "i1", "0s", ""}},
			convs: []ev{{u, c, "v1", "1.999999s", ""}},
			want:  map[string]want{"v1": {AttrView, "", "i1", 1, ""}}},
		{name: "no touches at all",
			convs: []ev{{u, c, "v1", "0s", ""}},
			want:  map[string]want{"v1": {AttrNone, "", "", -1, ""}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]attributed{}
			err := walk(context.Background(), DefaultWindows, stream(t, tc.imps, false), stream(t, tc.clicks, false), stream(t, tc.convs, true),
				func(a attributed) error { got[a.ConversionID] = a; return nil })
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d conversions, want %d", len(got), len(tc.want))
			}
			for id, w := range tc.want {
				a := got[id]
				sec := int64(-1)
				if a.Seconds.OK {
					sec = a.Seconds.V
				}
				if a.Attribution != w.attr || a.ClickID.V != w.click || a.ImpressionID.V != w.imp || sec != w.seconds || a.CreativeID.V != w.creative {
					t.Errorf("%s: got %s click %q imp %q seconds %d creative %q, want %+v", id, a.Attribution, a.ClickID.V, a.ImpressionID.V, sec, a.CreativeID.V, w)
				}
				if a.ClickID.OK != (w.click != "") || a.ImpressionID.OK != (w.imp != "") {
					t.Errorf("%s: null flags click %v imp %v", id, a.ClickID.OK, a.ImpressionID.OK)
				}
				if a.CampaignID == "" || a.ConversionType != "purchase" || a.ValueUSD.V != 12.5 || a.AdvertiserID.V != "adv-1" {
					t.Errorf("%s: conversion fields %+v", id, a)
				}
			}
		})
	}
}

func TestWindowsLookback(t *testing.T) {
	cases := []struct {
		w            Windows
		clicks, imps int
	}{
		{DefaultWindows, 7, 8},
		{Windows{ConversionToClick: 7*24*time.Hour + time.Second, ClickToImpression: time.Hour, ConversionToView: time.Hour}, 8, 8},
		{Windows{ConversionToClick: time.Hour, ClickToImpression: time.Hour, ConversionToView: 72 * time.Hour}, 1, 3},
	}
	for _, c := range cases {
		cl, im := c.w.WithDefaults().lookbackDays()
		if cl != c.clicks || im != c.imps {
			t.Errorf("%+v: %d, %d; want %d, %d", c.w, cl, im, c.clicks, c.imps)
		}
	}
}
