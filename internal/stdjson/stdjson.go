// Package stdjson is the encoding/json baseline of rtds's benchmarks: the
// structs a user of the standard library would write for RTDS events, and
// Decode, which decodes an event the way such a user would (envelope first,
// then the body into its type's struct). event.BenchmarkDecode and the
// end-to-end benchmark (bench/cmd/e2e) compare rtds with it.
package stdjson

import (
	"encoding/json"
	"time"
)

// The encoding/json baseline: the structs a user of the standard library
// would write for RTDS events. types_gen.go has the per-type bodies.

// Envelope is the part every event has.
type Envelope struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Offset    json.Number     `json:"offset"`
	Occurred  time.Time       `json:"occurred"`
	Processed time.Time       `json:"processed"`
	Device    *stdDevice      `json:"device,omitempty"`
	User      *stdUser        `json:"user,omitempty"`
	Body      json.RawMessage `json:"body,omitempty"`
}

type stdDevice struct {
	Channel         string            `json:"channel,omitempty"`
	DeviceType      string            `json:"device_type,omitempty"`
	IOSChannel      string            `json:"ios_channel,omitempty"`
	AndroidChannel  string            `json:"android_channel,omitempty"`
	AmazonChannel   string            `json:"amazon_channel,omitempty"`
	NamedUserID     string            `json:"named_user_id,omitempty"`
	NamedUser       string            `json:"named_user,omitempty"`
	DeliveryAddress string            `json:"delivery_address,omitempty"`
	Attributes      map[string]string `json:"attributes,omitempty"`
	Identifiers     map[string]string `json:"identifiers,omitempty"`
}

type stdUser struct {
	ContactID   string `json:"contact_id,omitempty"`
	NamedUserID string `json:"named_user_id,omitempty"`
}

type stdPush struct {
	PushID    string        `json:"push_id,omitempty"`
	GroupID   string        `json:"group_id,omitempty"`
	VariantID json.Number   `json:"variant_id,omitempty"`
	Time      *time.Time    `json:"time,omitempty"`
	Campaigns *stdCampaigns `json:"campaigns,omitempty"`
}

type stdCampaigns struct {
	Categories []string `json:"categories,omitempty"`
}

type stdProximity struct {
	BeaconID string      `json:"beacon_id,omitempty"`
	ID       string      `json:"id,omitempty"`
	Major    json.Number `json:"major,omitempty"`
	Minor    json.Number `json:"minor,omitempty"`
	RSSI     json.Number `json:"rssi,omitempty"`
	Lat      json.Number `json:"lat,omitempty"`
	Long     json.Number `json:"long,omitempty"`
	Lon      json.Number `json:"lon,omitempty"`
}

type stdCircular struct {
	Radius json.Number `json:"radius,omitempty"`
	Lat    json.Number `json:"lat,omitempty"`
	Long   json.Number `json:"long,omitempty"`
}

type stdPage struct {
	PageIdentifier string      `json:"page_identifier,omitempty"`
	PageIndex      json.Number `json:"page_index,omitempty"`
	DisplayTime    json.Number `json:"display_time,omitempty"`
}

type stdAttr struct {
	Key   string          `json:"key,omitempty"`
	Value json.RawMessage `json:"value,omitempty"`
	Type  string          `json:"type,omitempty"`
}
