package schema

import "time"

// Gold tables (SPEC §4): attribution and daily marts, computed by jobs/gold
// for one event date at a time and replaced per event_date partition
// (docs/gold.md). Every gold table is partitioned by event_date (identity)
// and ends with the lineage columns _run_id and _built_at.
//
// Each table's row type (AttributedConversionRow, CampaignDailyRow,
// BidFunnelDailyRow) is declared next to it, for lake/rows: one `col`-tagged
// field per declared column, lineage included, with lake/rows' nulls (an
// empty string in an optional column, a NaN float, a zero time and a nil
// pointer are null).

// Gold lineage column names.
const (
	// ColBuiltAt is when the gold row was computed.
	ColBuiltAt = "_built_at"
)

func goldLineage() []icebergField {
	return []icebergField{
		required(str(ColRunID, "the adlake run that built the partition")),
		required(tstz(ColBuiltAt, "when the partition was built")),
	}
}

func gold(name, doc string, unique []string, fields ...icebergField) Table {
	return Table{Namespace: "gold", Name: name, Doc: doc,
		Schema:      fresh(append(fields, goldLineage()...)...),
		PartitionBy: []string{ColEventDate},
		Unique:      unique}
}

// GoldAttributedConversions is gold.attributed_conversions: one row per
// valid, deduplicated, non-bot conversion of silver.conversions, with the
// click or impression it is credited to (SPEC §3).
var GoldAttributedConversions = gold("attributed_conversions",
	"one non-bot conversion with its credited click (click), impression (view) or none",
	[]string{"conversion_id", "conversion_ts", "click_id", "impression_id", "click_ts", "impression_ts", "user_key"},
	required(date(ColEventDate, "UTC date of the conversion (the partition)")),
	required(str("conversion_id", "the conversion's event_id")),
	required(tstz("conversion_ts", "the conversion's event_ts, UTC")),
	required(str("campaign_id", "the conversion's campaign")),
	str("advertiser_id", "the conversion's advertiser (silver enrichment)"),
	str("user_key", "keyed hash of user_id; null for anonymous conversions (always none)"),
	required(str("conversion_type", "signup, purchase, add_to_cart, lead or install")),
	f64("conversion_value_usd", "as silver.conversions.conversion_value_usd"),
	required(str("attribution", "click, view or none")),
	str("click_id", "the credited click (attribution click only)"),
	tstz("click_ts", "event_ts of the credited click"),
	str("impression_id", "click: the impression matched to the credited click (null when it matched none); view: the credited impression"),
	tstz("impression_ts", "event_ts of impression_id"),
	str("creative_id", "creative of the credited touch: click: the click's, else its impression's; view: the impression's"),
	str("site_domain", "site of the credited touch: click: the click's, else its impression's; view: the impression's"),
	i64("seconds_to_convert", "whole seconds (truncated) from the credited click, or for view from the impression, to the conversion; null for none"),
)

// AttributedConversionRow is one row of GoldAttributedConversions. Click
// fields are set for attribution "click" only; impression fields for
// "view", and for "click" when the click matched an impression.
type AttributedConversionRow struct {
	EventDate      time.Time `col:"event_date"`    // UTC midnight
	ConversionID   string    `col:"conversion_id"` // required
	ConversionTS   time.Time `col:"conversion_ts"` // required
	CampaignID     string    `col:"campaign_id"`   // required
	AdvertiserID   string    `col:"advertiser_id"`
	UserKey        string    `col:"user_key"` // "" for an anonymous conversion
	ConversionType string    `col:"conversion_type"`
	// ValueUSD is NaN when the conversion has no value.
	ValueUSD     float64   `col:"conversion_value_usd"`
	Attribution  string    `col:"attribution"` // click, view or none
	ClickID      string    `col:"click_id"`
	ClickTS      time.Time `col:"click_ts"`
	ImpressionID string    `col:"impression_id"`
	ImpressionTS time.Time `col:"impression_ts"`
	CreativeID   string    `col:"creative_id"`
	SiteDomain   string    `col:"site_domain"`
	// Seconds is nil for attribution "none".
	Seconds *int64    `col:"seconds_to_convert"`
	RunID   string    `col:"_run_id"`
	BuiltAt time.Time `col:"_built_at"`
}

// GoldCampaignDaily is gold.campaign_daily: one row per event date and
// campaign with any impression, click or conversion that day. Rows of
// impressions with a null campaign (unknown creative) are excluded.
var GoldCampaignDaily = gold("campaign_daily",
	"daily delivery, spend and attributed conversions per campaign",
	nil,
	required(date(ColEventDate, "UTC event date (the partition)")),
	required(str("campaign_id", "")),
	str("advertiser_id", "greatest non-null advertiser_id among the day's events of the campaign"),
	required(i64("impressions", "non-bot impressions of the date")),
	required(i64("clicks", "non-bot clicks of the date")),
	required(i64("conversions", "non-bot conversions of the date")),
	required(i64("click_conversions", "conversions of the date attributed to a click")),
	required(i64("view_conversions", "conversions of the date attributed to an impression (view)")),
	required(f64("conversion_value_usd", "sum of conversion_value_usd of the date's non-bot conversions, attributed or not")),
	required(f64("attributed_value_usd", "the part of conversion_value_usd from click and view conversions")),
	required(f64("spend_usd", "sum of cost_usd of all the date's impressions, bots included; impressions without an fx rate add nothing")),
	f64("ctr", "clicks / impressions; null when impressions = 0"),
	f64("cvr", "conversions / clicks; null when clicks = 0"),
	f64("cpa_usd", "spend_usd / conversions; null when conversions = 0"),
	required(i64("bot_impressions", "impressions flagged is_bot")),
	required(i64("bot_clicks", "clicks flagged is_bot (not in clicks)")),
)

// CampaignDailyRow is one row of GoldCampaignDaily. The ratios are NaN
// (null) when their denominator is 0; every other float is required.
type CampaignDailyRow struct {
	EventDate          time.Time `col:"event_date"` // UTC midnight
	CampaignID         string    `col:"campaign_id"`
	AdvertiserID       string    `col:"advertiser_id"` // "" when no event had one
	Impressions        int64     `col:"impressions"`
	Clicks             int64     `col:"clicks"`
	Conversions        int64     `col:"conversions"`
	ClickConversions   int64     `col:"click_conversions"`
	ViewConversions    int64     `col:"view_conversions"`
	ConversionValueUSD float64   `col:"conversion_value_usd"`
	AttributedValueUSD float64   `col:"attributed_value_usd"`
	SpendUSD           float64   `col:"spend_usd"`
	CTR                float64   `col:"ctr"`
	CVR                float64   `col:"cvr"`
	CPAUSD             float64   `col:"cpa_usd"`
	BotImpressions     int64     `col:"bot_impressions"`
	BotClicks          int64     `col:"bot_clicks"`
	RunID              string    `col:"_run_id"`
	BuiltAt            time.Time `col:"_built_at"`
}

// GoldBidFunnelDaily is gold.bid_funnel_daily: one row per bid-request event
// date and exchange, test traffic excluded.
var GoldBidFunnelDaily = gold("bid_funnel_daily",
	"bid requests, bids, wins and spend per exchange and bid-request date (test traffic excluded)",
	nil,
	required(date(ColEventDate, "UTC date of the bid requests (the partition)")),
	required(str("exchange", "lower-case")),
	required(i64("bid_requests", "non-test bid requests of the date")),
	required(i64("bids", "of those, the ones AdvertiseX bid on (has_bid)")),
	required(i64("wins", "impressions (of the date or the next) whose request_id is one of those bids")),
	f64("win_rate", "wins / bids; null when bids = 0"),
	f64("avg_bid_cpm_usd", "mean bid price, CPM, USD (bid_price_micros / 1e6 via ref.fx_rates); null when no bid has a price and rate"),
	required(i64("priced_bids", "bids in avg_bid_cpm_usd (with a price and an fx rate)")),
	required(f64("spend_usd", "sum of cost_usd of the won impressions")),
)

// BidFunnelDailyRow is one row of GoldBidFunnelDaily. WinRate and
// AvgBidCPMUSD are NaN (null) when their denominator is 0.
type BidFunnelDailyRow struct {
	EventDate    time.Time `col:"event_date"` // UTC midnight
	Exchange     string    `col:"exchange"`
	BidRequests  int64     `col:"bid_requests"`
	Bids         int64     `col:"bids"`
	Wins         int64     `col:"wins"`
	WinRate      float64   `col:"win_rate"`
	AvgBidCPMUSD float64   `col:"avg_bid_cpm_usd"`
	PricedBids   int64     `col:"priced_bids"`
	SpendUSD     float64   `col:"spend_usd"`
	RunID        string    `col:"_run_id"`
	BuiltAt      time.Time `col:"_built_at"`
}

// Gold lists the gold tables, in the order jobs/gold commits them.
func Gold() []Table {
	return []Table{GoldAttributedConversions, GoldCampaignDaily, GoldBidFunnelDaily}
}
