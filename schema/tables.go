package schema

import (
	"fmt"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// Table declares one Iceberg table adlake owns.
type Table struct {
	// Namespace and Name identify the table in the catalog ("bronze", "impressions").
	Namespace, Name string
	// Doc is stored as the table's "comment" property.
	Doc string
	// Schema has catalog-stable field IDs (see the package doc).
	Schema *iceberg.Schema
	// PartitionBy lists top-level columns partitioned by identity, in order.
	PartitionBy []string
	// Unique lists columns whose values (nearly) never repeat: ids,
	// timestamps, offsets. Parquet dictionary encoding only costs time on
	// them, so it is disabled there (Parquet column paths: "site.page").
	Unique []string
	// Monitored lists optional top-level columns whose share of nulls the
	// null_rate check watches per partition: the ones analysts join or
	// group on, where a producer change shows first.
	Monitored []string
}

// watching returns t with cols monitored for nulls.
func (t Table) watching(cols ...string) Table {
	t.Monitored = cols
	return t
}

// Properties returns the table properties t needs beyond the defaults.
func (t Table) Properties() map[string]string {
	p := map[string]string{"comment": t.Doc}
	for _, c := range t.Unique {
		p["write.parquet.dict-encoding-enabled.column."+c] = "false"
	}
	return p
}

// Ident returns the catalog identifier of t.
func (t Table) Ident() table.Identifier { return table.Identifier{t.Namespace, t.Name} }

// String returns "namespace.name".
func (t Table) String() string { return t.Namespace + "." + t.Name }

// Spec returns the partition spec of t, resolved against its schema.
func (t Table) Spec() (iceberg.PartitionSpec, error) {
	fields := make([]iceberg.PartitionField, 0, len(t.PartitionBy))
	for i, name := range t.PartitionBy {
		f, ok := t.Schema.FindFieldByName(name)
		if !ok {
			return iceberg.PartitionSpec{}, fmt.Errorf("table %s: partition column %q not in schema", t, name)
		}
		fields = append(fields, iceberg.PartitionField{
			SourceIDs: []int{f.ID}, FieldID: 1000 + i, Name: name, Transform: iceberg.IdentityTransform{},
		})
	}
	return iceberg.NewPartitionSpec(fields...), nil
}

// Lineage column names, present in every bronze table.
const (
	ColExtra        = "_extra"
	ColSourceFile   = "_source_file"
	ColSourceOffset = "_source_offset"
	ColLandingDate  = "_landing_dt"
	ColLandingHour  = "_landing_hr"
	ColRunID        = "_run_id"
	ColIngestedAt   = "_ingested_at"
)

// Lineage returns the columns that close every bronze schema, in order.
func Lineage() []iceberg.NestedField {
	return []iceberg.NestedField{
		str(ColExtra, "fields the contract does not name, as a JSON object; null when there were none"),
		required(str(ColSourceFile, "landing object key, relative to the landing root")),
		required(i64(ColSourceOffset, "JSON/CSV: byte offset of the record in the decompressed file; Avro: record ordinal in the file")),
		required(date(ColLandingDate, "arrival date (dt=) of the landing object")),
		required(i32(ColLandingHour, "arrival hour (hr=) of the landing object")),
		required(str(ColRunID, "the adlake run that ingested the record")),
		required(tstz(ColIngestedAt, "when the record was ingested")),
	}
}

func bronze(name, doc string, unique []string, fields ...iceberg.NestedField) Table {
	return Table{
		Namespace: "bronze", Name: name, Doc: doc,
		Schema:      fresh(append(fields, Lineage()...)...),
		PartitionBy: []string{ColLandingDate},
		Unique:      append(unique, ColSourceOffset, ColIngestedAt, ColExtra),
	}
}

// BronzeImpressions is bronze.impressions: one row per parsed JSON line.
// JSON keeps its own types; `ts` is kept as received (RFC 3339 text, or the
// digits of epoch milliseconds) and parsed in silver.
var BronzeImpressions = bronze("impressions", "impressions as received from the ad servers (JSON lines)",
	[]string{"impression_id", "ts", "user_id", "request_id", "site.page", "device.ip"},
	str("impression_id", ""),
	str("ts", "as received: RFC 3339 text or epoch milliseconds as digits"),
	str("user_id", "null for anonymous traffic"),
	str("creative_id", ""),
	structOf("site", "", str("domain", ""), str("page", "")),
	str("request_id", "null for direct-sold ads"),
	i64("win_price_cpm_micros", "clearing price, CPM, micros of currency"),
	str("currency", ""),
	structOf("device", "", str("type", ""), str("ua", ""), str("ip", "")),
	structOf("geo", "", str("country", ""), str("region", "")),
)

// ClicksConversionsColumns are the CSV columns the contract names, in the
// contract's order. Files may order them differently or add others.
var ClicksConversionsColumns = []string{
	"event_id", "event_type", "event_ts", "user_id", "campaign_id", "creative_id",
	"conversion_type", "conversion_value", "currency", "order_id", "site_domain", "user_agent", "ip",
}

// BronzeClicksConversions is bronze.clicks_conversions: one row per parsed
// CSV row, every field as its text (CSV has no types; silver types them),
// empty fields as null.
var BronzeClicksConversions = func() Table {
	fields := make([]iceberg.NestedField, len(ClicksConversionsColumns))
	for i, c := range ClicksConversionsColumns {
		fields[i] = str(c, "")
	}
	return bronze("clicks_conversions", "clicks and conversions as received from the click trackers (CSV)",
		[]string{"event_id", "event_ts", "order_id", "ip"}, fields...)
}()

func publisher() iceberg.NestedField {
	return structOf("publisher", "", str("publisher_id", ""), str("name", ""), str("domain", ""))
}

// BronzeBidRequests is bronze.bid_requests: one row per Avro record, the
// union of contract versions 1 and 2 (fields a v1 file lacks are null),
// nested as in the contract.
var BronzeBidRequests = bronze("bid_requests", "bid requests as received from the RTB bidder (Avro, contract v1 and v2)",
	[]string{"request_id", "event_time", "device.ip", "user.user_id"},
	str("request_id", ""),
	tstz("event_time", ""),
	str("exchange", ""),
	str("auction_type", "enum symbol"),
	i32("tmax_ms", ""),
	boolean("test", "test traffic, never billable"),
	boolean("schain_complete", "v2"),
	col("imps", &iceberg.ListType{ElementRequired: true, Element: &iceberg.StructType{FieldList: []iceberg.NestedField{
		str("imp_id", ""), str("tag_id", ""), str("media_type", "enum symbol"),
		f64("bid_floor_cpm", ""), str("bid_floor_cur", ""),
		structOf("banner", "", i32("w", ""), i32("h", ""), i32("pos", "")),
		listOf("deal_ids", "", iceberg.PrimitiveTypes.String),
	}}}, ""),
	structOf("site", "", str("site_id", ""), str("domain", ""), str("page", ""),
		listOf("cat", "", iceberg.PrimitiveTypes.String), publisher()),
	structOf("app", "", str("app_id", ""), str("bundle", ""), str("store_url", ""),
		listOf("cat", "", iceberg.PrimitiveTypes.String), publisher()),
	structOf("device", "", str("ua", ""), str("ip", ""), str("device_type", "enum symbol"),
		str("make", ""), str("model", ""), str("os", ""), str("osv", ""), str("ifa", ""), boolean("lmt", ""),
		structOf("geo", "", str("country", "ISO alpha-3 as sent"), str("region", ""), str("city", ""), str("zip", ""),
			f64("lat", ""), f64("lon", ""), i32("utc_offset_min", ""))),
	structOf("user", "", str("user_id", ""), str("buyer_uid", ""), str("consent", ""),
		col("segments", &iceberg.ListType{ElementRequired: true, Element: &iceberg.StructType{FieldList: []iceberg.NestedField{
			str("provider", ""), str("segment_id", ""),
		}}}, "")),
	structOf("regs", "", boolean("coppa", ""), boolean("gdpr", ""), str("us_privacy", ""), str("gpp", "")),
	listOf("bcat", "", iceberg.PrimitiveTypes.String),
	structOf("bid", "null when AdvertiseX did not bid",
		str("imp_id", ""), i64("price_micros", ""), str("currency", ""), str("campaign_id", ""),
		str("creative_id", ""), str("deal_id", ""), f64("bid_shading_factor", "v2")),
	str("_writer_schema", "contract version of the file's writer schema: v1, v2, or other:<fingerprint>"),
)

// All lists every table adlake creates, in creation order.
func All() []Table {
	var all []Table
	for _, f := range Feeds {
		all = append(all, f.Bronze)
	}
	all = append(all, Quarantine, Runs, Replays)
	all = append(all, Silver()...)
	all = append(all, Reference()...)
	all = append(all, Gold()...)
	return append(all, DQResults, Alerts)
}
