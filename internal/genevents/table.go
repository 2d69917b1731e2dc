package main

// This file is the one table every generated file comes from: each RTDS
// event type, its body fields with their Go types, and its S3 CSV layout.
// Facts come from the seed's "Appendix: S3 CSV Headers" (the CSV layouts,
// normative) and the shared RTDS event reference (the body fields).

// kind is how a body field is typed in Go.
type kind int

const (
	kString    kind = iota // string
	kNumber                // event.Number: a number, or a number sent as a string
	kBool                  // event.Bool: absent, true or false
	kTime                  // time.Time: an RFC 3339 timestamp
	kPush                  // *event.AssociatedPush
	kCampaigns             // *event.Campaigns
	kRaw                   // json.RawMessage: any JSON value, kept as sent
	kStrings               // []string
	kStringMap             // map[string]string
	kTagGroups             // event.TagGroups
	kProximity             // *event.Proximity
	kCircular              // *event.CircularRegion
	kPages                 // []event.ViewedPage
	kAttrItems             // []event.AttributeItem
)

// field is one member of an event body.
type field struct {
	JSON string // member name in the body
	Go   string // Go field name
	Kind kind
	Doc  string
}

// eventType is one RTDS event type.
type eventType struct {
	Wire   string // the "type" value, e.g. "IN_APP_MESSAGE_DISPLAY"
	Family string // generated file: <family>_gen.go
	Doc    string // what the event means (completes "X is ...")
	Fields []field
	// CSV is the appendix header for the type, exactly as the appendix
	// writes it ("APP_VERSION DEVICE_MODEL" is two columns). Empty: the type
	// has no CSV layout.
	CSV string
}

// Common field sets.
var (
	fPushID       = field{"push_id", "PushID", kString, "The push this event is about."}
	fGroupID      = field{"group_id", "GroupID", kString, "The push group (automation, push-to-local-time, ...), if any."}
	fVariantID    = field{"variant_id", "VariantID", kNumber, "The A/B-test variant, if any (a number, sometimes sent as a string)."}
	fCampaigns    = field{"campaigns", "Campaigns", kCampaigns, "The push's campaign categories, if any."}
	fSession      = field{"session_id", "SessionID", kString, "The app session, if any."}
	fLastDel      = field{"last_delivered", "LastDelivered", kPush, "The last push Airship tried to deliver to the device before this event."}
	fTriggering   = field{"triggering_push", "TriggeringPush", kPush, "The push that started the session (direct attribution)."}
	fTimeSent     = field{"time_sent", "TimeSent", kTime, "When the message was sent."}
	fResolution   = field{"type", "ResolutionType", kString, "The body's \"type\": how the message resolved."}
	fDuration     = field{"duration", "Duration", kNumber, "Milliseconds on screen."}
	fPushFields   = []field{fPushID, fGroupID, fVariantID, fCampaigns}
	fAppDefinedID = field{"app_defined_id", "AppDefinedID", kString, "The app-defined message identifier, if any."}
	fRendered     = field{"rendered_locale", "RenderedLocale", kRaw, "The locale the message was rendered in, as sent."}
	fSource       = field{"source", "Source", kString, "The message source (\"urban-airship\", \"app-defined\")."}
	fContext      = field{"context", "Context", kRaw, "The SDK's reporting context (pager, button, form, display, experiments), as sent."}
	fConvSendID   = field{"conversion_send_id", "ConversionSendID", kString, "The send the conversion is attributed to, if any."}
	fConvMeta     = field{"conversion_metadata", "ConversionMetadata", kString, "Opaque conversion metadata, if any."}
	fMessageID    = field{"id", "MessageID", kRaw, "The SDK's message identifier: {\"message_id\": ..., \"campaigns\": ...} or, from older SDKs, a string, as sent."}
	fReportMeta   = field{"reporting_metadata", "ReportingMetadata", kRaw, "The reporting metadata attached to the element, as sent."}
	fPagerID      = field{"pager_identifier", "PagerIdentifier", kString, "The pager."}
	fPageID       = field{"page_identifier", "PageIdentifier", kString, "The page."}
	fPageIndex    = field{"page_index", "PageIndex", kNumber, "The page's zero-based index."}
	fPageCount    = field{"page_count", "PageCount", kNumber, "How many pages the pager has."}
	fCompleted    = field{"completed", "Completed", kBool, "Whether the user reached the last page."}
	fFormEvent    = field{"in_app_form_event_type", "InAppFormEventType", kString, "The form event type."}
)

// layoutCommon are the fields every Scenes/in-app-experience (layout) event
// carries.
var layoutCommon = []field{
	fAppDefinedID, fPushID, fGroupID, fVariantID, fCampaigns, fSession, fTimeSent, fTriggering, fRendered,
	fSource, fContext, fConvSendID, fConvMeta, fMessageID,
}

func join(sets ...[]field) []field {
	var out []field
	for _, s := range sets {
		out = append(out, s...)
	}
	return out
}

// Appendix header building blocks.
const (
	csvCommon   = "ID, TYPE, OCCURRED, PROCESSED, OFFSET, NAMED_USER_ID, ANDROID_CHANNEL, IOS_CHANNEL, AMAZON_CHANNEL, CHANNEL, DEVICE_TYPE"
	csvAttrs    = "APP_PACKAGE_NAME, APP_VERSION DEVICE_MODEL, DEVICE_OS, CARRIER, PUSH_OPT_IN, BACKGROUND_PUSH_ENABLED, LOCATION_ENABLED, LOCALE_LANGUAGE_CODE, LOCALE_COUNTRY_CODE, LOCATION_PERMISSION, IANA_TIMEZONE"
	csvLastDel  = "LAST_DELIVERED_PUSH_ID, LAST_DELIVERED_GROUP_ID, LAST_DELIVERED_VARIANT_ID, LAST_DELIVERED_TIME"
	csvTrigger  = "TRIGGERING_PUSH_ID, TRIGGERING_GROUP_ID, TRIGGERING_VARIANT_ID, TRIGGERING_TIME"
	csvPush     = "PUSH_ID, GROUP_ID, VARIANT_ID"
	csvTrigTail = "TRIGGERING_PUSH_ID, TRIGGERING_GROUP_ID, TRIGGERING_VARIANT_ID, TRIGGERING_TIME"
)

var table = []eventType{
	// App lifecycle.
	{Wire: "OPEN", Family: "app", Doc: "the app was opened",
		Fields: []field{fLastDel, fTriggering, fSession},
		CSV:    csvCommon + ", " + csvLastDel + ", " + csvTrigger + ", SESSION"},
	{Wire: "CLOSE", Family: "app", Doc: "the app was closed or backgrounded",
		Fields: []field{fSession},
		CSV:    csvCommon + ", SESSION"},
	{Wire: "FIRST_OPEN", Family: "app", Doc: "the first app open after install. It has no body",
		CSV: csvCommon},
	{Wire: "UNINSTALL", Family: "app", Doc: "an uninstall was detected, usually in response to a push. It has no body",
		CSV: csvCommon},
	{Wire: "SCREEN_VIEWED", Family: "app", Doc: "a screen-tracking record, emitted when the user leaves the screen",
		Fields: []field{
			{"viewed_screen", "ViewedScreen", kString, "The screen that was viewed."},
			{"previous_screen", "PreviousScreen", kString, "The screen viewed before it, if any."},
			fDuration, fSession,
		},
		CSV: csvCommon + ", SESSION, DURATION, PREVIOUS_SCREEN, VIEWED_SCREEN"},

	// Custom events (also email and SMS engagement).
	{Wire: "CUSTOM", Family: "custom", Doc: "a custom event, sent by the SDK or the server API; email and SMS engagement arrive as CUSTOM on EMAIL and SMS devices",
		Fields: []field{
			{"name", "Name", kString, "The event name (lower case for API-sent events; for email provider events one of injection, delivery, bounce, ...)."},
			{"value", "Value", kNumber, "The event value, if any; may be fractional."},
			{"transaction", "Transaction", kString, "The transaction, if any."},
			{"interaction_id", "InteractionID", kString, "The interaction, if any."},
			{"interaction_type", "InteractionType", kString, "The interaction type (\"url\", \"Landing Page\", \"delivery_report\", ...)."},
			{"customer_id", "CustomerID", kString, "The customer, if any."},
			{"properties", "Properties", kRaw, "Arbitrary event properties, as sent."},
			{"source", "Source", kString, "SDK or API."},
			{"unique_id", "UniqueID", kString, "The server-side event's unique id, if any."},
			fSession, fLastDel, fTriggering,
		},
		CSV: csvCommon + ", " + csvLastDel + ", " + csvTrigger + ", SESSION, NAME, VALUE, TRANSACTION, INTERACTION_ID, INTERACTION_TYPE, CUSTOMER_ID"},

	// Location.
	{Wire: "LOCATION", Family: "location", Doc: "a location update",
		Fields: []field{
			{"latitude", "Latitude", kNumber, "Latitude in degrees (a number, or a number sent as a string)."},
			{"longitude", "Longitude", kNumber, "Longitude in degrees (a number, or a number sent as a string)."},
			{"foreground", "Foreground", kBool, "Whether the app was in the foreground."},
			fSession,
		},
		CSV: csvCommon + ", SESSION, LATITUDE, LONGITUDE, FOREGROUND"},
	{Wire: "REGION", Family: "location", Doc: "the device entered or left a region (a geofence or a beacon)",
		Fields: []field{
			{"action", "Action", kString, "\"enter\" or \"exit\", in either case (see Entered and Exited)."},
			{"region_id", "RegionID", kString, "The region."},
			{"name", "Name", kString, "The region's name, if sent."},
			{"region_name", "RegionName", kString, "The region's name under its alternative key, if sent."},
			{"source", "Source", kString, "The region source, e.g. \"Gimbal\"."},
			{"source_id", "SourceID", kString, "The region's id in its source, if any."},
			fSession,
			{"proximity", "Proximity", kProximity, "The beacon, for proximity regions."},
			{"circular_region", "CircularRegion", kCircular, "The geofence, for circular regions."},
		},
		CSV: csvCommon + ", SESSION, ACTION, REGION_ID, NAME, SOURCE, SOURCE_ID"},

	// Sends and pushes.
	{Wire: "SEND", Family: "send", Doc: "a push was sent to the channel",
		Fields: fPushFields,
		CSV:    csvCommon + ", " + csvPush},
	{Wire: "SEND_ABORTED", Family: "send", Doc: "a push was dropped before delivery was attempted",
		Fields: join(fPushFields, []field{{"reason", "Reason", kString, "Why: FEED_RESOLVE_FAILURE, FEED_REQUEST_REJECTED or UNKNOWN."}}),
		CSV:    csvCommon + ", " + csvAttrs + ", GROUP_ID, PUSH_ID, REASON"},
	{Wire: "SEND_REJECTED", Family: "send", Doc: "the push provider (APNs, FCM, ...) rejected the send",
		Fields: join(fPushFields, []field{
			{"status", "Status", kString, "The provider's status (Unregistered, BadDeviceToken, ...)."},
			{"reason", "Reason", kString, "The provider's reason, if any."},
		})},
	{Wire: "CONTROL", Family: "send", Doc: "the device was held out of a push as a control-group member",
		Fields: fPushFields,
		CSV:    csvCommon + ", " + csvPush},
	{Wire: "PUSH_BODY", Family: "send", Doc: "the full push specification, emitted once per push or group. It has no device",
		Fields: []field{
			fPushID, fGroupID, fVariantID,
			{"payload", "Payload", kString, "Standard Base64 of the push specification as submitted."},
			{"trimmed", "Trimmed", kBool, "Whether Airship truncated the payload."},
			{"resource", "Resource", kString, "The kind of object the payload came from (an open set: PUSH, SCHEDULE, EXPERIMENT, PIPELINE, ...)."},
		},
		CSV: "ID, TYPE, OCCURRED, PROCESSED, OFFSET, PUSH_ID, GROUP_ID, VARIANT_ID, PAYLOAD, TRIMMED, RESOURCE"},

	// Message Center.
	{Wire: "RICH_DELIVERY", Family: "rich", Doc: "a Message Center message was delivered",
		Fields: fPushFields, CSV: csvCommon + ", " + csvPush},
	{Wire: "RICH_READ", Family: "rich", Doc: "a Message Center message was read",
		Fields: fPushFields, CSV: csvCommon + ", " + csvPush},
	{Wire: "RICH_DELETE", Family: "rich", Doc: "a Message Center message was deleted",
		Fields: fPushFields, CSV: csvCommon + ", " + csvPush},
	{Wire: "RICH_CONTROL", Family: "rich", Doc: "the device was held out of a Message Center message as a control-group member",
		Fields: fPushFields},

	// In-app messages.
	{Wire: "IN_APP_MESSAGE_DISPLAY", Family: "inapp", Doc: "an in-app message was shown",
		Fields: join(fPushFields, []field{fTriggering, fSession, fRendered}),
		CSV:    csvCommon + ", " + csvPush + ", " + csvTrigger + ", SESSION"},
	{Wire: "IN_APP_MESSAGE_RESOLUTION", Family: "inapp", Doc: "an in-app message closed",
		Fields: join(fPushFields, []field{fTriggering, fSession, fTimeSent,
			{"type", "ResolutionType", kString, "How the message closed: BUTTON_CLICK, MESSAGE_CLICK, USER_DISMISSED, TIMED_OUT, ... (an open set)."},
			{"button_id", "ButtonID", kString, "The tapped button, for BUTTON_CLICK."},
			{"button_group", "ButtonGroup", kString, "The tapped button's group, for BUTTON_CLICK."},
			{"button_description", "ButtonDescription", kString, "The tapped button's description, for BUTTON_CLICK."},
			fDuration,
		}),
		CSV: csvCommon + ", " + csvPush + ", " + csvTrigger + ", SESSION, TIME_SENT, RESOLUTION_TYPE, BUTTON_ID, BUTTON_DESCRIPTION, DURATION"},
	{Wire: "IN_APP_MESSAGE_EXPIRATION", Family: "inapp", Doc: "an in-app message expired or was replaced before it was shown",
		Fields: join(fPushFields, []field{fTriggering, fSession, fTimeSent,
			{"type", "ResolutionType", kString, "Why: EXPIRED, REPLACED, ALREADY_DISPLAYED (an open set)."},
			{"time_expired", "TimeExpired", kTime, "When the message expired."},
			{"replacing_push", "ReplacingPush", kPush, "The push that replaced the message, for REPLACED."},
		}),
		CSV: csvCommon + ", " + csvPush + ", " + csvTrigger + ", SESSION, TIME_SENT, RESOLUTION_TYPE, TIME_EXPIRED, REPLACING_PUSH_PUSH_ID, REPLACING_PUSH_GROUP_ID, REPLACING_PUSH_VARIANT_ID, REPLACING_PUSH_TIME"},
	{Wire: "IN_APP_MESSAGE_CONTROL", Family: "inapp", Doc: "the device was held out of an in-app message as a control-group member",
		Fields: join(fPushFields, []field{fTriggering, fSession, fTimeSent})},
	{Wire: "IN_APP_MESSAGE_EXCLUSION", Family: "inapp", Doc: "an in-app message was not shown because the device failed its audience check",
		Fields: join(fPushFields, []field{fTriggering, fSession, fTimeSent})},

	// Scenes / in-app experiences (layout events).
	{Wire: "IN_APP_BUTTON_TAP", Family: "layout", Doc: "a button in a Scene or in-app experience was tapped",
		Fields: join(layoutCommon, []field{
			{"button_id", "ButtonID", kString, "The tapped button, if sent under this key."},
			{"button_identifier", "ButtonIdentifier", kString, "The tapped button."},
			fReportMeta,
		}),
		CSV: csvCommon + ", " + csvAttrs + ", APP_DEFINED_ID, BUTTON_ID, GROUP_ID, RENDERED_LOCALE, PUSH_ID, SESSION, TIME_SENT, " + csvTrigTail},
	{Wire: "IN_APP_EXPERIENCES", Family: "layout", Doc: "an in-app experience (survey, story, ...) was triggered",
		Fields: join(layoutCommon, []field{
			{"event_name", "EventName", kString, "The experience event."},
			{"survey_type", "SurveyType", kString, "The survey type, for surveys."},
		}),
		CSV: csvCommon + ", " + csvAttrs + ", APP_DEFINED_ID, EVENT_NAME, GROUP_ID, PUSH_ID, SESSION, SURVEY_TYPE, TIME_SENT, " + csvTrigTail + ", VARIANT_ID"},
	{Wire: "IN_APP_FORM_DISPLAY", Family: "layout", Doc: "a form in a Scene or in-app experience was shown",
		Fields: join(layoutCommon, []field{
			{"form_identifier", "FormIdentifier", kString, "The form."},
			{"form_type", "FormType", kString, "The form type (\"form\", \"nps\")."},
			{"form_response_type", "FormResponseType", kString, "The response type, if any."},
			fFormEvent,
		}),
		CSV: csvCommon + ", " + csvAttrs + ", APP_DEFINED_ID, GROUP_ID, PUSH_ID, SESSION, TIME_SENT, " + csvTrigTail + ", IN_APP_FORM_EVENT_TYPE"},
	{Wire: "IN_APP_FORM_RESULT", Family: "layout", Doc: "a form in a Scene or in-app experience was submitted",
		Fields: join(layoutCommon, []field{
			{"form_identifier", "FormIdentifier", kString, "The form."},
			{"forms", "Forms", kRaw, "The submitted form data, keyed by form and child ids, as sent."},
			fFormEvent,
		}),
		CSV: csvCommon + ", " + csvAttrs + ", APP_DEFINED_ID, GROUP_ID, PUSH_ID, SESSION, TIME_SENT, " + csvTrigTail + ", IN_APP_FORM_EVENT_TYPE"},
	{Wire: "IN_APP_PAGE_SWIPE", Family: "pager", Doc: "the user swiped between pages of a pager",
		Fields: join(layoutCommon, []field{
			fPagerID,
			{"from_page_index", "FromPageIndex", kNumber, "The page swiped from (zero-based)."},
			{"from_page_identifier", "FromPageIdentifier", kString, "The page swiped from."},
			{"to_page_index", "ToPageIndex", kNumber, "The page swiped to (zero-based)."},
			{"to_page_identifier", "ToPageIdentifier", kString, "The page swiped to."},
		}),
		CSV: csvCommon + ", " + csvAttrs + ", APP_DEFINED_ID, FROM_PAGE_INDEX, FROM_PAGE_IDENTIFIER, GROUP_ID, RENDERED_LOCALE, PAGER_IDENTIFIER, PUSH_ID, SESSION, TIME_SENT, TO_PAGE_IDENTIFIER, TO_PAGE_INDEX, " + csvTrigTail},
	{Wire: "IN_APP_PAGE_VIEW", Family: "pager", Doc: "a page of a pager was shown",
		Fields: join(layoutCommon, []field{
			fPagerID, fPageID, fPageIndex, fPageCount, fCompleted,
			{"viewed_count", "ViewedCount", kNumber, "How many times the page has been viewed."},
		}),
		CSV: csvCommon + ", " + csvAttrs + ", APP_DEFINED_ID, COMPLETED, GROUP_ID, RENDERED_LOCALE, PAGE_COUNT, PAGE_IDENTIFIER, PAGE_INDEX, PAGER_IDENTIFIER, PUSH_ID, SESSION, TIME_SENT, " + csvTrigTail + ", VIEWED_COUNT"},
	{Wire: "IN_APP_PAGER_COMPLETED", Family: "pager", Doc: "the user reached the last page of a pager",
		Fields: join(layoutCommon, []field{fPagerID, fPageID, fPageIndex, fPageCount, fCompleted}),
		CSV:    csvCommon + ", " + csvAttrs + ", APP_DEFINED_ID, COMPLETED, GROUP_ID, RENDERED_LOCALE, PAGE_COUNT, PAGE_IDENTIFIER, PAGE_INDEX, PAGER_IDENTIFIER, PUSH_ID, SESSION, TIME_SENT, " + csvTrigTail},
	{Wire: "IN_APP_PAGER_SUMMARY", Family: "pager", Doc: "a summary of a pager's use, emitted when it is dismissed",
		Fields: join(layoutCommon, []field{fPagerID, fPageID, fPageCount, fCompleted,
			{"viewed_pages", "ViewedPages", kPages, "The pages viewed, in order, with their display times."},
		}),
		CSV: csvCommon + ", " + csvAttrs + ", APP_DEFINED_ID, COMPLETED, GROUP_ID, RENDERED_LOCALE, PAGE_COUNT, PAGE_IDENTIFIER, PAGER_IDENTIFIER, PUSH_ID, SESSION, TIME_SENT, " + csvTrigTail},

	// Web.
	{Wire: "WEB_CLICK", Family: "web", Doc: "a web notification was clicked",
		Fields: join(fPushFields, []field{fSession}),
		CSV:    csvCommon + ", " + csvPush},
	{Wire: "WEB_SESSION", Family: "web", Doc: "a web session started",
		Fields: []field{fLastDel, fSession},
		CSV:    csvCommon + ", " + csvLastDel + ", SESSION"},

	// Tags and attributes.
	{Wire: "TAG_CHANGE", Family: "tags", Doc: "tags were added to or removed from the channel. Its CSV rows carry the common columns only",
		Fields: []field{
			{"add", "Add", kTagGroups, "Tags added, by tag group."},
			{"remove", "Remove", kTagGroups, "Tags removed, by tag group."},
			{"current", "Current", kTagGroups, "The channel's complete tags after the change, by tag group."},
		},
		CSV: csvCommon},
	{Wire: "ATTRIBUTE_OPERATION", Family: "tags", Doc: "attributes were set on or removed from the channel",
		Fields: []field{
			{"set", "Set", kAttrItems, "Attributes set."},
			{"remove", "Remove", kAttrItems, "Attributes removed."},
		}},
	{Wire: "LABEL_EVENT", Family: "tags", Doc: "a label event. Its body is not documented; every member is kept in BodyExtra"},

	// Email, SMS and contacts.
	{Wire: "COMPLIANCE", Family: "compliance", Doc: "an email or SMS consent or compliance record",
		Fields: []field{
			{"event_type", "ComplianceType", kString, "The compliance event (api_initiate_opt_in, mobile_opt_out, bounce, registration, ...)."},
			{"identifiers", "Identifiers", kStringMap, "Identifiers of the address (msisdn and sender for SMS, address for email)."},
			{"properties", "Properties", kRaw, "Event properties (for email bounces: bounce_class, a number, bounce_event_type, email, sender, subject), as sent."},
		}},
	{Wire: "SUBSCRIPTION", Family: "compliance", Doc: "a subscription (email subscription state) changed",
		Fields: []field{
			{"properties", "Properties", kRaw, "The subscription state, as sent."},
		}},
	{Wire: "SUBSCRIPTION_LIST", Family: "compliance", Doc: "the channel enrolled in or left subscription lists",
		Fields: []field{
			{"enrolled", "Enrolled", kStrings, "Lists enrolled in."},
			{"canceled", "Canceled", kStrings, "Lists left."},
			{"scope", "Scope", kString, "The channel scope (APP, WEB, EMAIL, SMS)."},
		}},
	{Wire: "CONTACT_CHANGE", Family: "compliance", Doc: "the channel's contact changed",
		Fields: []field{
			{"change_type", "ChangeType", kString, "ASSOCIATION, DISSOCIATION or UNINSTALL."},
		}},
	{Wire: "FIRST_OPT_IN", Family: "compliance", Doc: "an email (commercial), SMS or open channel was opted in for the first time. Its body is not documented; every member is kept in BodyExtra"},
	{Wire: "SHORT_LINK_CLICK", Family: "compliance", Doc: "an SMS short link was clicked. Its body is not documented; every member is kept in BodyExtra"},
	{Wire: "MOBILE_ORIGINATED", Family: "compliance", Doc: "an inbound SMS arrived. Its body is not documented; every member is kept in BodyExtra"},

	// Other.
	{Wire: "FEATURE_FLAG_INTERACTION", Family: "other", Doc: "a feature flag was evaluated or interacted with. Its body is not documented; every member is kept in BodyExtra"},
	{Wire: "OFFSET_UPDATE", Family: "other", Doc: "a synthetic event that carries only an offset: it stands for no activity and lets a client advance its stored offset on a quiet or filtered stream. Never treat it as a user event"},
}
