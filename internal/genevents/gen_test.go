package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedFilesUpToDate fails when a generated file differs from what
// the table generates now: run `go generate ./event/...` (or make generate).
func TestGeneratedFilesUpToDate(t *testing.T) {
	files, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join("..", "..", f.path))
		if err != nil {
			t.Errorf("%s: %v (run go generate ./event/...)", f.path, err)
			continue
		}
		if !bytes.Equal(got, f.data) {
			t.Errorf("%s is stale: run go generate ./event/...", f.path)
		}
		if !strings.HasPrefix(string(f.data), "// Code generated ") || !strings.Contains(string(f.data), "DO NOT EDIT.\n") {
			t.Errorf("%s lacks the generated-code header", f.path)
		}
	}
}

func TestTableCoversTheAppendixAndReference(t *testing.T) {
	appendix := []string{"OPEN", "CLOSE", "CUSTOM", "LOCATION", "SEND", "TAG_CHANGE", "RICH_DELETE",
		"RICH_DELIVERY", "RICH_READ", "REGION", "IN_APP_MESSAGE_DISPLAY", "IN_APP_MESSAGE_EXPIRATION",
		"IN_APP_MESSAGE_RESOLUTION", "CONTROL", "SCREEN_VIEWED", "FIRST_OPEN", "UNINSTALL", "PUSH_BODY",
		"WEB_CLICK", "WEB_SESSION", "IN_APP_BUTTON_TAP", "IN_APP_EXPERIENCES", "IN_APP_FORM_DISPLAY",
		"IN_APP_FORM_RESULT", "IN_APP_PAGE_SWIPE", "IN_APP_PAGE_VIEW", "IN_APP_PAGER_COMPLETED",
		"IN_APP_PAGER_SUMMARY", "SEND_ABORTED"}
	further := []string{"ATTRIBUTE_OPERATION", "COMPLIANCE", "SEND_REJECTED", "SUBSCRIPTION",
		"SUBSCRIPTION_LIST", "CONTACT_CHANGE", "FIRST_OPT_IN", "SHORT_LINK_CLICK", "MOBILE_ORIGINATED",
		"FEATURE_FLAG_INTERACTION", "LABEL_EVENT", "RICH_CONTROL", "IN_APP_MESSAGE_CONTROL",
		"IN_APP_MESSAGE_EXCLUSION", "OFFSET_UPDATE"}
	byWire := map[string]eventType{}
	for _, et := range table {
		byWire[et.Wire] = et
	}
	for _, w := range appendix {
		et, ok := byWire[w]
		if !ok || et.CSV == "" {
			t.Errorf("%s: missing from the table or without its appendix CSV layout", w)
		}
	}
	for _, w := range further {
		if et, ok := byWire[w]; !ok || et.CSV != "" {
			t.Errorf("%s: missing from the table, or given a CSV layout the appendix does not have", w)
		}
	}
	if got, want := len(table), len(appendix)+len(further); got != want {
		t.Errorf("table has %d types, want %d", got, want)
	}
}

func TestCSVColumnsSplitTheUnseparatedPair(t *testing.T) {
	got := csvColumns("A, APP_VERSION DEVICE_MODEL, B")
	want := []string{"A", "APP_VERSION", "DEVICE_MODEL", "B"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("csvColumns = %q, want %q", got, want)
	}
}
