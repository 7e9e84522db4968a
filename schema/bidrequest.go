package schema

// BidRequest is the typed Go form of the bid_request Avro contract v2, a
// superset of v1: decoding a v1 record leaves the v2 fields nil. Pointers
// are Avro unions with null; enums are their symbols; EventTime is epoch
// milliseconds (timestamp-millis).
type BidRequest struct {
	RequestID      string   `avro:"request_id"`
	EventTime      int64    `avro:"event_time"` // timestamp-millis
	Exchange       string   `avro:"exchange"`
	AuctionType    string   `avro:"auction_type"`
	TmaxMs         *int32   `avro:"tmax_ms"`
	Test           bool     `avro:"test"`
	SchainComplete *bool    `avro:"schain_complete"`
	Imps           []Imp    `avro:"imps"`
	Site           *Site    `avro:"site"`
	App            *App     `avro:"app"`
	Device         *Device  `avro:"device"`
	User           *User    `avro:"user"`
	Regs           *Regs    `avro:"regs"`
	Bcat           []string `avro:"bcat"`
	Bid            *Bid     `avro:"bid"`
}

// Imp is one impression opportunity of a bid request.
type Imp struct {
	ImpID       string   `avro:"imp_id"`
	TagID       *string  `avro:"tag_id"`
	MediaType   string   `avro:"media_type"`
	BidFloorCPM float64  `avro:"bid_floor_cpm"`
	BidFloorCur string   `avro:"bid_floor_cur"`
	Banner      *Banner  `avro:"banner"`
	DealIDs     []string `avro:"deal_ids"`
}

// Banner is the banner object of an Imp.
type Banner struct {
	W   int32  `avro:"w"`
	H   int32  `avro:"h"`
	Pos *int32 `avro:"pos"`
}

// Publisher of a Site or App.
type Publisher struct {
	PublisherID *string `avro:"publisher_id"`
	Name        *string `avro:"name"`
	Domain      *string `avro:"domain"`
}

// Site is the web site of a bid request.
type Site struct {
	SiteID    *string    `avro:"site_id"`
	Domain    *string    `avro:"domain"`
	Page      *string    `avro:"page"`
	Cat       []string   `avro:"cat"`
	Publisher *Publisher `avro:"publisher"`
}

// App is the mobile app of a bid request.
type App struct {
	AppID     *string    `avro:"app_id"`
	Bundle    *string    `avro:"bundle"`
	StoreURL  *string    `avro:"store_url"`
	Cat       []string   `avro:"cat"`
	Publisher *Publisher `avro:"publisher"`
}

// Geo is the device location; Country is ISO alpha-3.
type Geo struct {
	Country      *string  `avro:"country"`
	Region       *string  `avro:"region"`
	City         *string  `avro:"city"`
	Zip          *string  `avro:"zip"`
	Lat          *float64 `avro:"lat"`
	Lon          *float64 `avro:"lon"`
	UTCOffsetMin *int32   `avro:"utc_offset_min"`
}

// Device is the device of a bid request; DeviceType is an AdCOM symbol.
type Device struct {
	UA         *string `avro:"ua"`
	IP         *string `avro:"ip"`
	DeviceType string  `avro:"device_type"`
	Make       *string `avro:"make"`
	Model      *string `avro:"model"`
	OS         *string `avro:"os"`
	OSV        *string `avro:"osv"`
	IFA        *string `avro:"ifa"`
	LMT        *bool   `avro:"lmt"`
	Geo        *Geo    `avro:"geo"`
}

// Segment is a targeting segment of a User.
type Segment struct {
	Provider  string `avro:"provider"`
	SegmentID string `avro:"segment_id"`
}

// User of a bid request; UserID shares the impressions id space.
type User struct {
	UserID   *string   `avro:"user_id"`
	BuyerUID *string   `avro:"buyer_uid"`
	Consent  *string   `avro:"consent"`
	Segments []Segment `avro:"segments"`
}

// Regs are the regulatory signals of a bid request.
type Regs struct {
	COPPA     bool    `avro:"coppa"`
	GDPR      *bool   `avro:"gdpr"`
	USPrivacy *string `avro:"us_privacy"`
	GPP       *string `avro:"gpp"`
}

// Bid is AdvertiseX's response; nil when it did not bid.
type Bid struct {
	ImpID            string   `avro:"imp_id"`
	PriceMicros      int64    `avro:"price_micros"`
	Currency         string   `avro:"currency"`
	CampaignID       string   `avro:"campaign_id"`
	CreativeID       string   `avro:"creative_id"`
	DealID           *string  `avro:"deal_id"`
	BidShadingFactor *float64 `avro:"bid_shading_factor"`
}
