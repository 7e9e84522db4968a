package schema

// Silver and reference tables. Silver holds one valid, deduplicated event
// per row, timestamps in UTC (microseconds), standardized vocabularies and
// enrichment; partitioned by event day. User ids are pseudonymized
// (user_key); raw ids stay in bronze only.

// Silver lineage columns (a subset of bronze's: where the row came from).
func silverLineage() []icebergField {
	return []icebergField{
		required(str(ColSourceFile, "landing object key of the bronze record")),
		required(i64(ColSourceOffset, "as bronze._source_offset")),
		required(date(ColLandingDate, "arrival date of the landing object")),
		required(str(ColRunID, "the adlake run that derived the row")),
		required(tstz(ColIngestedAt, "when the row was derived")),
	}
}

// ColEventDate is the partition column of every silver table.
const ColEventDate = "event_date"

func silver(name, doc string, unique []string, fields ...icebergField) Table {
	return Table{Namespace: "silver", Name: name, Doc: doc,
		Schema:      fresh(append(fields, silverLineage()...)...),
		PartitionBy: []string{ColEventDate},
		Unique:      append(unique, "event_ts", "user_key", ColSourceOffset, ColIngestedAt)}
}

func eventTime() []icebergField {
	return []icebergField{
		required(tstz("event_ts", "event time, UTC")),
		required(date(ColEventDate, "UTC date of event_ts (the partition)")),
	}
}

// SilverImpressions is silver.impressions.
var SilverImpressions = silver("impressions", "valid, deduplicated impressions",
	[]string{"impression_id", "request_id", "site_page", "cost_usd"},
	append(eventTime(),
		required(str("impression_id", "")),
		str("user_key", "keyed hash of user_id; null for anonymous traffic"),
		required(str("creative_id", "")),
		str("campaign_id", "from ref.creatives; null for an unknown creative"),
		str("advertiser_id", "from ref.campaigns"),
		required(str("site_domain", "lower-case")),
		str("site_page", ""),
		str("publisher_id", "from ref.sites"),
		str("iab_category", "from ref.sites"),
		str("request_id", "the bid request won; null for direct-sold"),
		i64("win_price_cpm_micros", "clearing price, CPM, micros of currency"),
		required(str("currency", "ISO 4217, upper-case (default USD)")),
		f64("cost_usd", "this impression's cost in USD: win_price_cpm_micros / 1000 / 1e6 * fx; null without a rate"),
		required(str("device_type", "mobile, desktop, tablet, ctv, other or unknown")),
		str("user_agent", ""),
		str("country", "ISO alpha-2"),
		str("region", ""),
		required(boolean("is_bot", "user agent matches a known crawler")),
	)...).watching("user_key", "country", "cost_usd")

func clickFields() []icebergField {
	return append(eventTime(),
		required(str("event_id", "")),
		str("user_key", "keyed hash of user_id"),
		required(str("campaign_id", "")),
		str("advertiser_id", "from ref.campaigns"),
		str("creative_id", ""),
		str("site_domain", "lower-case"),
		str("user_agent", ""),
		required(boolean("is_bot", "user agent matches a known crawler")),
	)
}

// SilverClicks is silver.clicks (event_type click of clicks_conversions).
var SilverClicks = silver("clicks", "valid, deduplicated clicks", []string{"event_id"}, clickFields()...).watching("user_key")

// SilverConversions is silver.conversions.
var SilverConversions = silver("conversions", "valid, deduplicated conversions",
	[]string{"event_id", "order_id"},
	append(clickFields(),
		required(str("conversion_type", "signup, purchase, add_to_cart, lead or install")),
		f64("conversion_value", "in currency"),
		required(str("currency", "ISO 4217, upper-case (default USD)")),
		f64("conversion_value_usd", "via ref.fx_rates at the event date (or the latest before); null without value or rate"),
		str("order_id", ""),
	)...).watching("user_key")

// SilverBidRequests is silver.bid_requests.
var SilverBidRequests = silver("bid_requests", "valid, deduplicated bid requests",
	[]string{"request_id"},
	append(eventTime(),
		required(str("request_id", "")),
		required(str("exchange", "lower-case")),
		str("auction_type", "lower-case"),
		required(boolean("is_test", "test traffic, never billable")),
		str("site_domain", "lower-case"),
		str("app_bundle", ""),
		required(str("device_type", "mobile, desktop, tablet, ctv, other or unknown")),
		str("country", "ISO alpha-2"),
		str("user_key", "keyed hash of user.user_id"),
		required(boolean("is_bot", "user agent matches a known crawler")),
		required(i32("imp_count", "")),
		f64("bid_floor_cpm", "of the first imp"),
		required(boolean("has_bid", "AdvertiseX bid")),
		i64("bid_price_micros", "CPM, micros of bid_currency"),
		str("bid_currency", ""),
		str("bid_campaign_id", ""),
		str("bid_creative_id", ""),
		str("deal_id", ""),
		str("writer_schema", "v1, v2 or other:<fingerprint>"),
	)...).watching("user_key", "country")

// Silver lists the silver tables.
func Silver() []Table {
	return []Table{SilverImpressions, SilverClicks, SilverConversions, SilverBidRequests}
}

func ref(name, doc string, fields ...icebergField) Table {
	return Table{Namespace: "ref", Name: name, Doc: doc, Schema: fresh(append(fields,
		required(str("_source_file", "the reference snapshot it was loaded from")),
		required(date("_snapshot_dt", "dt of that snapshot")))...)}
}

// Reference tables: the newest full snapshot of each reference file.
var (
	RefCampaigns = ref("campaigns", "campaigns (newest reference snapshot)",
		required(str("campaign_id", "")), str("advertiser_id", ""), str("campaign_name", ""),
		date("start_date", ""), date("end_date", ""), i64("daily_budget_micros", ""),
		str("currency", ""), str("goal", ""), str("status", ""))
	RefCreatives = ref("creatives", "creatives (newest reference snapshot)",
		required(str("creative_id", "")), str("campaign_id", ""), str("format", ""),
		i32("width", ""), i32("height", ""), str("landing_domain", ""))
	RefSites = ref("sites", "sites (newest reference snapshot)",
		required(str("site_domain", "lower-case")), str("publisher_id", ""), str("iab_category", ""))
	RefFxRates = ref("fx_rates", "USD value of one unit of a currency per date (newest reference snapshot)",
		required(date("date", "")), required(str("currency", "")), required(f64("usd_per_unit", "")))
)

// Reference lists the ref tables in load order; a table's Name is the
// name of its reference file (landing reference/<name>/).
func Reference() []Table { return []Table{RefCampaigns, RefCreatives, RefSites, RefFxRates} }
