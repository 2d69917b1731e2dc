package connect_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/rtdskit/rtds/connect"
	"github.com/rtdskit/rtds/connect/connecttest"
	"github.com/rtdskit/rtds/event"
	"github.com/rtdskit/rtds/kinesis"
)

func exampleServer() *connecttest.Server {
	s, err := connecttest.NewServer(connecttest.Config{AppKey: "APPKEY", Token: "TOKEN"},
		[]byte(`{"id":"e1","type":"OPEN","offset":"41","occurred":"2026-11-28T10:00:00Z","processed":"2026-11-28T10:00:01Z","device":{"channel":"c1"},"body":{}}`),
		[]byte(`{"id":"e2","type":"UNINSTALL","offset":"42","occurred":"2026-11-28T10:00:00Z","processed":"2026-11-28T10:00:01Z","device":{"channel":"c2"}}`),
	)
	if err != nil {
		panic(err)
	}
	return s
}

func ExampleClient_Events() {
	s := exampleServer()
	defer s.Close()
	c, err := connect.New("APPKEY", "TOKEN", connect.WithBaseURL(s.URL), connect.WithStart(connect.StartEarliest))
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for e, err := range c.Events(ctx) {
		if err != nil {
			panic(err)
		}
		fmt.Println(e.Offset, e.Type, e.Event.Base().ChannelID())
		e.Ack()
		if e.Offset == "42" {
			break
		}
	}
	fmt.Println("resume after", c.Acknowledged())
	// Output:
	// 41 OPEN c1
	// 42 UNINSTALL c2
	// resume after 42
}

func ExampleClient_Run() {
	s := exampleServer()
	defer s.Close()
	c, err := connect.New("APPKEY", "TOKEN", connect.WithBaseURL(s.URL), connect.WithStart(connect.StartEarliest))
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	done := errors.New("done")
	err = c.Run(ctx, kinesis.OnUninstall(func(ctx context.Context, e *event.Uninstall) error {
		fmt.Println("uninstalled:", e.ChannelID())
		cancel(done)
		return nil
	}))
	fmt.Println(errors.Is(err, done), c.Acknowledged())
	// Output:
	// uninstalled: c2
	// true 42
}
