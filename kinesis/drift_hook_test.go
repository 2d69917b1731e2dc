package kinesis

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rtdskit/rtds/event"
)

type driftLog struct{ got []string }

func (l *driftLog) OnSchemaDrift(m SchemaDriftMetrics) {
	for _, d := range m.Drift {
		l.got = append(l.got, m.ShardID+" "+string(m.Type)+" "+d.Path+" "+string(d.Kind))
	}
}

func TestSchemaDriftHookReportsUnknownTypesAndMembers(t *testing.T) {
	var log driftLog
	d, err := NewDispatcher(WithHooks(&log),
		OnOpen(func(context.Context, *event.Open) error { return nil }))
	if err != nil {
		t.Fatal(err)
	}
	inputs := [][]byte{
		[]byte(`{"id":"1","type":"OPEN","body":{}}`),               // no drift
		[]byte(`{"id":"2","type":"OPEN","body":{"session_id":5}}`), // misfit value
		[]byte(`{"id":"3","type":"OPEN","source":"x","body":{}}`),  // unknown member
		[]byte(`{"id":"4","type":"HOLOGRAM","body":{}}`),           // unknown type, no handler
		[]byte(`{"id":"5","type":"SEND","body":{"x":1}}`),          // no handler: not decoded
	}
	for i, data := range inputs {
		if err := d.Dispatch(context.Background(), Record{ShardID: "sh", SequenceNumber: string(rune('1' + i)), Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"sh OPEN body.session_id type_mismatch",
		"sh OPEN source unknown_field",
		"sh HOLOGRAM type unknown_type",
	}
	if diff := cmp.Diff(want, log.got); diff != "" {
		t.Errorf("drift hook calls (-want +got):\n%s", diff)
	}
}
