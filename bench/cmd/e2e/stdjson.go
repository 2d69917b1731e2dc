// Code copied from the event package's tests (event/std_test.go and
// event/stdjson_gen_test.go): the structs a user of encoding/json would write
// for RTDS events, the same baseline as event.BenchmarkDecode's.

package main

import (
	"encoding/json"
	"time"
)

// The encoding/json baseline: the structs a user of the standard library
// would write for RTDS events. The per-type bodies follow.

type stdEnvelope struct {
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

type stdAttributeOperationBody struct {
	Set    []stdAttr `json:"set,omitempty"`
	Remove []stdAttr `json:"remove,omitempty"`
}

type stdCloseBody struct {
	SessionID string `json:"session_id,omitempty"`
}

type stdComplianceBody struct {
	ComplianceType string            `json:"event_type,omitempty"`
	Identifiers    map[string]string `json:"identifiers,omitempty"`
	Properties     json.RawMessage   `json:"properties,omitempty"`
}

type stdContactChangeBody struct {
	ChangeType string `json:"change_type,omitempty"`
}

type stdControlBody struct {
	PushID    string        `json:"push_id,omitempty"`
	GroupID   string        `json:"group_id,omitempty"`
	VariantID json.Number   `json:"variant_id,omitempty"`
	Campaigns *stdCampaigns `json:"campaigns,omitempty"`
}

type stdCustomBody struct {
	Name            string          `json:"name,omitempty"`
	Value           json.Number     `json:"value,omitempty"`
	Transaction     string          `json:"transaction,omitempty"`
	InteractionID   string          `json:"interaction_id,omitempty"`
	InteractionType string          `json:"interaction_type,omitempty"`
	CustomerID      string          `json:"customer_id,omitempty"`
	Properties      json.RawMessage `json:"properties,omitempty"`
	Source          string          `json:"source,omitempty"`
	UniqueID        string          `json:"unique_id,omitempty"`
	SessionID       string          `json:"session_id,omitempty"`
	LastDelivered   *stdPush        `json:"last_delivered,omitempty"`
	TriggeringPush  *stdPush        `json:"triggering_push,omitempty"`
}

type stdFeatureFlagInteractionBody struct {
}

type stdFirstOpenBody struct {
}

type stdFirstOptInBody struct {
}

type stdInAppButtonTapBody struct {
	AppDefinedID       string          `json:"app_defined_id,omitempty"`
	PushID             string          `json:"push_id,omitempty"`
	GroupID            string          `json:"group_id,omitempty"`
	VariantID          json.Number     `json:"variant_id,omitempty"`
	Campaigns          *stdCampaigns   `json:"campaigns,omitempty"`
	SessionID          string          `json:"session_id,omitempty"`
	TimeSent           *time.Time      `json:"time_sent,omitempty"`
	TriggeringPush     *stdPush        `json:"triggering_push,omitempty"`
	RenderedLocale     json.RawMessage `json:"rendered_locale,omitempty"`
	Source             string          `json:"source,omitempty"`
	Context            json.RawMessage `json:"context,omitempty"`
	ConversionSendID   string          `json:"conversion_send_id,omitempty"`
	ConversionMetadata string          `json:"conversion_metadata,omitempty"`
	MessageID          json.RawMessage `json:"id,omitempty"`
	ButtonID           string          `json:"button_id,omitempty"`
	ButtonIdentifier   string          `json:"button_identifier,omitempty"`
	ReportingMetadata  json.RawMessage `json:"reporting_metadata,omitempty"`
}

type stdInAppExperiencesBody struct {
	AppDefinedID       string          `json:"app_defined_id,omitempty"`
	PushID             string          `json:"push_id,omitempty"`
	GroupID            string          `json:"group_id,omitempty"`
	VariantID          json.Number     `json:"variant_id,omitempty"`
	Campaigns          *stdCampaigns   `json:"campaigns,omitempty"`
	SessionID          string          `json:"session_id,omitempty"`
	TimeSent           *time.Time      `json:"time_sent,omitempty"`
	TriggeringPush     *stdPush        `json:"triggering_push,omitempty"`
	RenderedLocale     json.RawMessage `json:"rendered_locale,omitempty"`
	Source             string          `json:"source,omitempty"`
	Context            json.RawMessage `json:"context,omitempty"`
	ConversionSendID   string          `json:"conversion_send_id,omitempty"`
	ConversionMetadata string          `json:"conversion_metadata,omitempty"`
	MessageID          json.RawMessage `json:"id,omitempty"`
	EventName          string          `json:"event_name,omitempty"`
	SurveyType         string          `json:"survey_type,omitempty"`
}

type stdInAppFormDisplayBody struct {
	AppDefinedID       string          `json:"app_defined_id,omitempty"`
	PushID             string          `json:"push_id,omitempty"`
	GroupID            string          `json:"group_id,omitempty"`
	VariantID          json.Number     `json:"variant_id,omitempty"`
	Campaigns          *stdCampaigns   `json:"campaigns,omitempty"`
	SessionID          string          `json:"session_id,omitempty"`
	TimeSent           *time.Time      `json:"time_sent,omitempty"`
	TriggeringPush     *stdPush        `json:"triggering_push,omitempty"`
	RenderedLocale     json.RawMessage `json:"rendered_locale,omitempty"`
	Source             string          `json:"source,omitempty"`
	Context            json.RawMessage `json:"context,omitempty"`
	ConversionSendID   string          `json:"conversion_send_id,omitempty"`
	ConversionMetadata string          `json:"conversion_metadata,omitempty"`
	MessageID          json.RawMessage `json:"id,omitempty"`
	FormIdentifier     string          `json:"form_identifier,omitempty"`
	FormType           string          `json:"form_type,omitempty"`
	FormResponseType   string          `json:"form_response_type,omitempty"`
	InAppFormEventType string          `json:"in_app_form_event_type,omitempty"`
}

type stdInAppFormResultBody struct {
	AppDefinedID       string          `json:"app_defined_id,omitempty"`
	PushID             string          `json:"push_id,omitempty"`
	GroupID            string          `json:"group_id,omitempty"`
	VariantID          json.Number     `json:"variant_id,omitempty"`
	Campaigns          *stdCampaigns   `json:"campaigns,omitempty"`
	SessionID          string          `json:"session_id,omitempty"`
	TimeSent           *time.Time      `json:"time_sent,omitempty"`
	TriggeringPush     *stdPush        `json:"triggering_push,omitempty"`
	RenderedLocale     json.RawMessage `json:"rendered_locale,omitempty"`
	Source             string          `json:"source,omitempty"`
	Context            json.RawMessage `json:"context,omitempty"`
	ConversionSendID   string          `json:"conversion_send_id,omitempty"`
	ConversionMetadata string          `json:"conversion_metadata,omitempty"`
	MessageID          json.RawMessage `json:"id,omitempty"`
	FormIdentifier     string          `json:"form_identifier,omitempty"`
	Forms              json.RawMessage `json:"forms,omitempty"`
	InAppFormEventType string          `json:"in_app_form_event_type,omitempty"`
}

type stdInAppMessageControlBody struct {
	PushID         string        `json:"push_id,omitempty"`
	GroupID        string        `json:"group_id,omitempty"`
	VariantID      json.Number   `json:"variant_id,omitempty"`
	Campaigns      *stdCampaigns `json:"campaigns,omitempty"`
	TriggeringPush *stdPush      `json:"triggering_push,omitempty"`
	SessionID      string        `json:"session_id,omitempty"`
	TimeSent       *time.Time    `json:"time_sent,omitempty"`
}

type stdInAppMessageDisplayBody struct {
	PushID         string          `json:"push_id,omitempty"`
	GroupID        string          `json:"group_id,omitempty"`
	VariantID      json.Number     `json:"variant_id,omitempty"`
	Campaigns      *stdCampaigns   `json:"campaigns,omitempty"`
	TriggeringPush *stdPush        `json:"triggering_push,omitempty"`
	SessionID      string          `json:"session_id,omitempty"`
	RenderedLocale json.RawMessage `json:"rendered_locale,omitempty"`
}

type stdInAppMessageExclusionBody struct {
	PushID         string        `json:"push_id,omitempty"`
	GroupID        string        `json:"group_id,omitempty"`
	VariantID      json.Number   `json:"variant_id,omitempty"`
	Campaigns      *stdCampaigns `json:"campaigns,omitempty"`
	TriggeringPush *stdPush      `json:"triggering_push,omitempty"`
	SessionID      string        `json:"session_id,omitempty"`
	TimeSent       *time.Time    `json:"time_sent,omitempty"`
}

type stdInAppMessageExpirationBody struct {
	PushID         string        `json:"push_id,omitempty"`
	GroupID        string        `json:"group_id,omitempty"`
	VariantID      json.Number   `json:"variant_id,omitempty"`
	Campaigns      *stdCampaigns `json:"campaigns,omitempty"`
	TriggeringPush *stdPush      `json:"triggering_push,omitempty"`
	SessionID      string        `json:"session_id,omitempty"`
	TimeSent       *time.Time    `json:"time_sent,omitempty"`
	ResolutionType string        `json:"type,omitempty"`
	TimeExpired    *time.Time    `json:"time_expired,omitempty"`
	ReplacingPush  *stdPush      `json:"replacing_push,omitempty"`
}

type stdInAppMessageResolutionBody struct {
	PushID            string        `json:"push_id,omitempty"`
	GroupID           string        `json:"group_id,omitempty"`
	VariantID         json.Number   `json:"variant_id,omitempty"`
	Campaigns         *stdCampaigns `json:"campaigns,omitempty"`
	TriggeringPush    *stdPush      `json:"triggering_push,omitempty"`
	SessionID         string        `json:"session_id,omitempty"`
	TimeSent          *time.Time    `json:"time_sent,omitempty"`
	ResolutionType    string        `json:"type,omitempty"`
	ButtonID          string        `json:"button_id,omitempty"`
	ButtonGroup       string        `json:"button_group,omitempty"`
	ButtonDescription string        `json:"button_description,omitempty"`
	Duration          json.Number   `json:"duration,omitempty"`
}

type stdInAppPagerCompletedBody struct {
	AppDefinedID       string          `json:"app_defined_id,omitempty"`
	PushID             string          `json:"push_id,omitempty"`
	GroupID            string          `json:"group_id,omitempty"`
	VariantID          json.Number     `json:"variant_id,omitempty"`
	Campaigns          *stdCampaigns   `json:"campaigns,omitempty"`
	SessionID          string          `json:"session_id,omitempty"`
	TimeSent           *time.Time      `json:"time_sent,omitempty"`
	TriggeringPush     *stdPush        `json:"triggering_push,omitempty"`
	RenderedLocale     json.RawMessage `json:"rendered_locale,omitempty"`
	Source             string          `json:"source,omitempty"`
	Context            json.RawMessage `json:"context,omitempty"`
	ConversionSendID   string          `json:"conversion_send_id,omitempty"`
	ConversionMetadata string          `json:"conversion_metadata,omitempty"`
	MessageID          json.RawMessage `json:"id,omitempty"`
	PagerIdentifier    string          `json:"pager_identifier,omitempty"`
	PageIdentifier     string          `json:"page_identifier,omitempty"`
	PageIndex          json.Number     `json:"page_index,omitempty"`
	PageCount          json.Number     `json:"page_count,omitempty"`
	Completed          *bool           `json:"completed,omitempty"`
}

type stdInAppPagerSummaryBody struct {
	AppDefinedID       string          `json:"app_defined_id,omitempty"`
	PushID             string          `json:"push_id,omitempty"`
	GroupID            string          `json:"group_id,omitempty"`
	VariantID          json.Number     `json:"variant_id,omitempty"`
	Campaigns          *stdCampaigns   `json:"campaigns,omitempty"`
	SessionID          string          `json:"session_id,omitempty"`
	TimeSent           *time.Time      `json:"time_sent,omitempty"`
	TriggeringPush     *stdPush        `json:"triggering_push,omitempty"`
	RenderedLocale     json.RawMessage `json:"rendered_locale,omitempty"`
	Source             string          `json:"source,omitempty"`
	Context            json.RawMessage `json:"context,omitempty"`
	ConversionSendID   string          `json:"conversion_send_id,omitempty"`
	ConversionMetadata string          `json:"conversion_metadata,omitempty"`
	MessageID          json.RawMessage `json:"id,omitempty"`
	PagerIdentifier    string          `json:"pager_identifier,omitempty"`
	PageIdentifier     string          `json:"page_identifier,omitempty"`
	PageCount          json.Number     `json:"page_count,omitempty"`
	Completed          *bool           `json:"completed,omitempty"`
	ViewedPages        []stdPage       `json:"viewed_pages,omitempty"`
}

type stdInAppPageSwipeBody struct {
	AppDefinedID       string          `json:"app_defined_id,omitempty"`
	PushID             string          `json:"push_id,omitempty"`
	GroupID            string          `json:"group_id,omitempty"`
	VariantID          json.Number     `json:"variant_id,omitempty"`
	Campaigns          *stdCampaigns   `json:"campaigns,omitempty"`
	SessionID          string          `json:"session_id,omitempty"`
	TimeSent           *time.Time      `json:"time_sent,omitempty"`
	TriggeringPush     *stdPush        `json:"triggering_push,omitempty"`
	RenderedLocale     json.RawMessage `json:"rendered_locale,omitempty"`
	Source             string          `json:"source,omitempty"`
	Context            json.RawMessage `json:"context,omitempty"`
	ConversionSendID   string          `json:"conversion_send_id,omitempty"`
	ConversionMetadata string          `json:"conversion_metadata,omitempty"`
	MessageID          json.RawMessage `json:"id,omitempty"`
	PagerIdentifier    string          `json:"pager_identifier,omitempty"`
	FromPageIndex      json.Number     `json:"from_page_index,omitempty"`
	FromPageIdentifier string          `json:"from_page_identifier,omitempty"`
	ToPageIndex        json.Number     `json:"to_page_index,omitempty"`
	ToPageIdentifier   string          `json:"to_page_identifier,omitempty"`
}

type stdInAppPageViewBody struct {
	AppDefinedID       string          `json:"app_defined_id,omitempty"`
	PushID             string          `json:"push_id,omitempty"`
	GroupID            string          `json:"group_id,omitempty"`
	VariantID          json.Number     `json:"variant_id,omitempty"`
	Campaigns          *stdCampaigns   `json:"campaigns,omitempty"`
	SessionID          string          `json:"session_id,omitempty"`
	TimeSent           *time.Time      `json:"time_sent,omitempty"`
	TriggeringPush     *stdPush        `json:"triggering_push,omitempty"`
	RenderedLocale     json.RawMessage `json:"rendered_locale,omitempty"`
	Source             string          `json:"source,omitempty"`
	Context            json.RawMessage `json:"context,omitempty"`
	ConversionSendID   string          `json:"conversion_send_id,omitempty"`
	ConversionMetadata string          `json:"conversion_metadata,omitempty"`
	MessageID          json.RawMessage `json:"id,omitempty"`
	PagerIdentifier    string          `json:"pager_identifier,omitempty"`
	PageIdentifier     string          `json:"page_identifier,omitempty"`
	PageIndex          json.Number     `json:"page_index,omitempty"`
	PageCount          json.Number     `json:"page_count,omitempty"`
	Completed          *bool           `json:"completed,omitempty"`
	ViewedCount        json.Number     `json:"viewed_count,omitempty"`
}

type stdLabelEventBody struct {
}

type stdLocationBody struct {
	Latitude   json.Number `json:"latitude,omitempty"`
	Longitude  json.Number `json:"longitude,omitempty"`
	Foreground *bool       `json:"foreground,omitempty"`
	SessionID  string      `json:"session_id,omitempty"`
}

type stdMobileOriginatedBody struct {
}

type stdOffsetUpdateBody struct {
}

type stdOpenBody struct {
	LastDelivered  *stdPush `json:"last_delivered,omitempty"`
	TriggeringPush *stdPush `json:"triggering_push,omitempty"`
	SessionID      string   `json:"session_id,omitempty"`
}

type stdPushBodyBody struct {
	PushID    string      `json:"push_id,omitempty"`
	GroupID   string      `json:"group_id,omitempty"`
	VariantID json.Number `json:"variant_id,omitempty"`
	Payload   string      `json:"payload,omitempty"`
	Trimmed   *bool       `json:"trimmed,omitempty"`
	Resource  string      `json:"resource,omitempty"`
}

type stdRegionBody struct {
	Action         string        `json:"action,omitempty"`
	RegionID       string        `json:"region_id,omitempty"`
	Name           string        `json:"name,omitempty"`
	RegionName     string        `json:"region_name,omitempty"`
	Source         string        `json:"source,omitempty"`
	SourceID       string        `json:"source_id,omitempty"`
	SessionID      string        `json:"session_id,omitempty"`
	Proximity      *stdProximity `json:"proximity,omitempty"`
	CircularRegion *stdCircular  `json:"circular_region,omitempty"`
}

type stdRichControlBody struct {
	PushID    string        `json:"push_id,omitempty"`
	GroupID   string        `json:"group_id,omitempty"`
	VariantID json.Number   `json:"variant_id,omitempty"`
	Campaigns *stdCampaigns `json:"campaigns,omitempty"`
}

type stdRichDeleteBody struct {
	PushID    string        `json:"push_id,omitempty"`
	GroupID   string        `json:"group_id,omitempty"`
	VariantID json.Number   `json:"variant_id,omitempty"`
	Campaigns *stdCampaigns `json:"campaigns,omitempty"`
}

type stdRichDeliveryBody struct {
	PushID    string        `json:"push_id,omitempty"`
	GroupID   string        `json:"group_id,omitempty"`
	VariantID json.Number   `json:"variant_id,omitempty"`
	Campaigns *stdCampaigns `json:"campaigns,omitempty"`
}

type stdRichReadBody struct {
	PushID    string        `json:"push_id,omitempty"`
	GroupID   string        `json:"group_id,omitempty"`
	VariantID json.Number   `json:"variant_id,omitempty"`
	Campaigns *stdCampaigns `json:"campaigns,omitempty"`
}

type stdScreenViewedBody struct {
	ViewedScreen   string      `json:"viewed_screen,omitempty"`
	PreviousScreen string      `json:"previous_screen,omitempty"`
	Duration       json.Number `json:"duration,omitempty"`
	SessionID      string      `json:"session_id,omitempty"`
}

type stdSendBody struct {
	PushID    string        `json:"push_id,omitempty"`
	GroupID   string        `json:"group_id,omitempty"`
	VariantID json.Number   `json:"variant_id,omitempty"`
	Campaigns *stdCampaigns `json:"campaigns,omitempty"`
}

type stdSendAbortedBody struct {
	PushID    string        `json:"push_id,omitempty"`
	GroupID   string        `json:"group_id,omitempty"`
	VariantID json.Number   `json:"variant_id,omitempty"`
	Campaigns *stdCampaigns `json:"campaigns,omitempty"`
	Reason    string        `json:"reason,omitempty"`
}

type stdSendRejectedBody struct {
	PushID    string        `json:"push_id,omitempty"`
	GroupID   string        `json:"group_id,omitempty"`
	VariantID json.Number   `json:"variant_id,omitempty"`
	Campaigns *stdCampaigns `json:"campaigns,omitempty"`
	Status    string        `json:"status,omitempty"`
	Reason    string        `json:"reason,omitempty"`
}

type stdShortLinkClickBody struct {
}

type stdSubscriptionBody struct {
	Properties json.RawMessage `json:"properties,omitempty"`
}

type stdSubscriptionListBody struct {
	Enrolled []string `json:"enrolled,omitempty"`
	Canceled []string `json:"canceled,omitempty"`
	Scope    string   `json:"scope,omitempty"`
}

type stdTagChangeBody struct {
	Add     map[string][]string `json:"add,omitempty"`
	Remove  map[string][]string `json:"remove,omitempty"`
	Current map[string][]string `json:"current,omitempty"`
}

type stdUninstallBody struct {
}

type stdWebClickBody struct {
	PushID    string        `json:"push_id,omitempty"`
	GroupID   string        `json:"group_id,omitempty"`
	VariantID json.Number   `json:"variant_id,omitempty"`
	Campaigns *stdCampaigns `json:"campaigns,omitempty"`
	SessionID string        `json:"session_id,omitempty"`
}

type stdWebSessionBody struct {
	LastDelivered *stdPush `json:"last_delivered,omitempty"`
	SessionID     string   `json:"session_id,omitempty"`
}

// stdDecode decodes data with encoding/json into the std structs.
func stdDecode(data []byte) (*stdEnvelope, any, error) {
	var env stdEnvelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, nil, err
	}
	var body any
	switch env.Type {
	case "ATTRIBUTE_OPERATION":
		body = new(stdAttributeOperationBody)
	case "CLOSE":
		body = new(stdCloseBody)
	case "COMPLIANCE":
		body = new(stdComplianceBody)
	case "CONTACT_CHANGE":
		body = new(stdContactChangeBody)
	case "CONTROL":
		body = new(stdControlBody)
	case "CUSTOM":
		body = new(stdCustomBody)
	case "FEATURE_FLAG_INTERACTION":
		body = new(stdFeatureFlagInteractionBody)
	case "FIRST_OPEN":
		body = new(stdFirstOpenBody)
	case "FIRST_OPT_IN":
		body = new(stdFirstOptInBody)
	case "IN_APP_BUTTON_TAP":
		body = new(stdInAppButtonTapBody)
	case "IN_APP_EXPERIENCES":
		body = new(stdInAppExperiencesBody)
	case "IN_APP_FORM_DISPLAY":
		body = new(stdInAppFormDisplayBody)
	case "IN_APP_FORM_RESULT":
		body = new(stdInAppFormResultBody)
	case "IN_APP_MESSAGE_CONTROL":
		body = new(stdInAppMessageControlBody)
	case "IN_APP_MESSAGE_DISPLAY":
		body = new(stdInAppMessageDisplayBody)
	case "IN_APP_MESSAGE_EXCLUSION":
		body = new(stdInAppMessageExclusionBody)
	case "IN_APP_MESSAGE_EXPIRATION":
		body = new(stdInAppMessageExpirationBody)
	case "IN_APP_MESSAGE_RESOLUTION":
		body = new(stdInAppMessageResolutionBody)
	case "IN_APP_PAGER_COMPLETED":
		body = new(stdInAppPagerCompletedBody)
	case "IN_APP_PAGER_SUMMARY":
		body = new(stdInAppPagerSummaryBody)
	case "IN_APP_PAGE_SWIPE":
		body = new(stdInAppPageSwipeBody)
	case "IN_APP_PAGE_VIEW":
		body = new(stdInAppPageViewBody)
	case "LABEL_EVENT":
		body = new(stdLabelEventBody)
	case "LOCATION":
		body = new(stdLocationBody)
	case "MOBILE_ORIGINATED":
		body = new(stdMobileOriginatedBody)
	case "OFFSET_UPDATE":
		body = new(stdOffsetUpdateBody)
	case "OPEN":
		body = new(stdOpenBody)
	case "PUSH_BODY":
		body = new(stdPushBodyBody)
	case "REGION":
		body = new(stdRegionBody)
	case "RICH_CONTROL":
		body = new(stdRichControlBody)
	case "RICH_DELETE":
		body = new(stdRichDeleteBody)
	case "RICH_DELIVERY":
		body = new(stdRichDeliveryBody)
	case "RICH_READ":
		body = new(stdRichReadBody)
	case "SCREEN_VIEWED":
		body = new(stdScreenViewedBody)
	case "SEND":
		body = new(stdSendBody)
	case "SEND_ABORTED":
		body = new(stdSendAbortedBody)
	case "SEND_REJECTED":
		body = new(stdSendRejectedBody)
	case "SHORT_LINK_CLICK":
		body = new(stdShortLinkClickBody)
	case "SUBSCRIPTION":
		body = new(stdSubscriptionBody)
	case "SUBSCRIPTION_LIST":
		body = new(stdSubscriptionListBody)
	case "TAG_CHANGE":
		body = new(stdTagChangeBody)
	case "UNINSTALL":
		body = new(stdUninstallBody)
	case "WEB_CLICK":
		body = new(stdWebClickBody)
	case "WEB_SESSION":
		body = new(stdWebSessionBody)
	default:
		return &env, nil, nil
	}
	if len(env.Body) > 0 {
		if err := json.Unmarshal(env.Body, body); err != nil {
			return nil, nil, err
		}
	}
	return &env, body, nil
}
