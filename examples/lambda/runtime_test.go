package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/batch"
)

// runMainEnv makes the test binary run main instead of the tests: the
// function under test is the real binary, run by the real aws-lambda-go
// runtime loop (lambda.Start).
const runMainEnv = "RTDS_EXAMPLE_LAMBDA_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// runtimeAPI serves the Lambda Runtime API (the part lambda.Start uses) on
// 127.0.0.1: each GET .../invocation/next hands out the next queued event,
// and the function's responses and errors are collected by request id.
type runtimeAPI struct {
	srv    *httptest.Server
	events chan []byte

	mu        sync.Mutex
	responses map[string][]byte
	errors    map[string][]byte
	done      chan string
}

func newRuntimeAPI(t *testing.T) *runtimeAPI {
	a := &runtimeAPI{events: make(chan []byte, 16), responses: map[string][]byte{}, errors: map[string][]byte{}, done: make(chan string, 16)}
	mux := http.NewServeMux()
	n := 0
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		select {
		case ev := <-a.events:
			a.mu.Lock()
			n++
			id := fmt.Sprintf("req-%d", n)
			a.mu.Unlock()
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", id)
			w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:rtds-uninstall-email")
			w.Header().Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(ev)
		case <-r.Context().Done():
		}
	})
	collect := func(into map[string][]byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			a.mu.Lock()
			into[r.PathValue("id")] = body
			a.mu.Unlock()
			w.WriteHeader(http.StatusAccepted)
			a.done <- r.PathValue("id")
		}
	}
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", collect(a.responses))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", collect(a.errors))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		t.Errorf("init error: %s", body)
		w.WriteHeader(http.StatusAccepted)
	})
	a.srv = httptest.NewServer(mux)
	t.Cleanup(a.srv.Close)
	return a
}

// invoke queues ev and waits for the function's response to it.
func (a *runtimeAPI) invoke(t *testing.T, ev events.KinesisEvent) events.KinesisEventResponse {
	t.Helper()
	payload, err := json.Marshal(ev) // data in base64, as Lambda sends it
	if err != nil {
		t.Fatal(err)
	}
	a.events <- payload
	var id string
	select {
	case id = <-a.done:
	case <-time.After(30 * time.Second):
		t.Fatal("no response from the function")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if e, ok := a.errors[id]; ok {
		t.Fatalf("function error: %s", e)
	}
	var resp events.KinesisEventResponse
	if err := json.Unmarshal(a.responses[id], &resp); err != nil {
		t.Fatalf("response %s: %v", a.responses[id], err)
	}
	return resp
}

// startFunction runs this binary's main with AWS_LAMBDA_RUNTIME_API set,
// and returns its standard output once it is stopped.
func startFunction(t *testing.T, api *runtimeAPI) func() string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "_LAMBDA_SERVER_PORT=") && !strings.HasPrefix(kv, "AWS_LAMBDA_RUNTIME_API=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, runMainEnv+"=1", "AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(api.srv.URL, "http://"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() string {
		if !stopped {
			stopped = true
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		return out.String()
	}
	t.Cleanup(func() { stop() })
	return stop
}

// kinesalite returns a client for the kinesalite emulator that
// scripts/emulators.sh starts (RTDS_KINESALITE_ENDPOINT). Without it the
// test fails under RTDS_INTEGRATION=required (make test), and is skipped
// otherwise.
func kinesalite(t *testing.T) *sdkkinesis.Client {
	t.Helper()
	ep := os.Getenv("RTDS_KINESALITE_ENDPOINT")
	if ep == "" {
		if os.Getenv("RTDS_INTEGRATION") == "required" {
			t.Fatal("RTDS_KINESALITE_ENDPOINT is not set: the emulators are not running (make test starts them)")
		}
		t.Skip("RTDS_KINESALITE_ENDPOINT not set; run `make test`, or `scripts/emulators.sh start && . .emulators/env`")
	}
	return sdkkinesis.New(sdkkinesis.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(ep),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	})
}

// roundTrip writes datas to a new one-shard stream on kinesalite, reads
// them back, and returns them as the Kinesis event Lambda would deliver.
func roundTrip(t *testing.T, c *sdkkinesis.Client, datas ...[]byte) events.KinesisEvent {
	t.Helper()
	ctx := context.Background()
	stream := fmt.Sprintf("lambda-example-%d", time.Now().UnixNano())
	if _, err := c.CreateStream(ctx, &sdkkinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = c.DeleteStream(ctx, &sdkkinesis.DeleteStreamInput{StreamName: aws.String(stream)}) })
	var arn string
	for arn == "" {
		out, err := c.DescribeStreamSummary(ctx, &sdkkinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
		if err == nil && out.StreamDescriptionSummary.StreamStatus == sdktypes.StreamStatusActive {
			arn = aws.ToString(out.StreamDescriptionSummary.StreamARN)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, d := range datas {
		if _, err := c.PutRecord(ctx, &sdkkinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String("pk"), Data: d}); err != nil {
			t.Fatal(err)
		}
	}
	shards, err := c.ListShards(ctx, &sdkkinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	shard := aws.ToString(shards.Shards[0].ShardId)
	it, err := c.GetShardIterator(ctx, &sdkkinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: aws.String(shard), ShardIteratorType: sdktypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.GetRecords(ctx, &sdkkinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Records) != len(datas) {
		t.Fatalf("read %d records, wrote %d", len(out.Records), len(datas))
	}
	var ev events.KinesisEvent
	for _, r := range out.Records {
		seq := aws.ToString(r.SequenceNumber)
		ev.Records = append(ev.Records, events.KinesisEventRecord{
			AwsRegion: "us-east-1", EventID: shard + ":" + seq, EventName: "aws:kinesis:record", EventSource: "aws:kinesis",
			EventSourceArn: arn, EventVersion: "1.0",
			Kinesis: events.KinesisRecord{
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: aws.ToTime(r.ApproximateArrivalTimestamp)},
				Data:                        r.Data, PartitionKey: aws.ToString(r.PartitionKey), SequenceNumber: seq, KinesisSchemaVersion: "1.0",
			},
		})
	}
	return ev
}

func uninstall(id, named string) []byte {
	dev := `{"channel":"c-` + id + `","device_type":"IOS"}`
	if named != "" {
		dev = `{"channel":"c-` + id + `","device_type":"IOS","named_user_id":"` + named + `"}`
	}
	return []byte(`{"id":"` + id + `","type":"UNINSTALL","offset":1235,"occurred":"2015-05-03T02:32:12.088Z",` +
		`"processed":"2015-05-03T12:12:43.180Z","device":` + dev + `}`)
}

func open(id string) []byte {
	return []byte(`{"id":"` + id + `","type":"OPEN","offset":"7","occurred":"2015-05-03T02:32:12.088Z",` +
		`"processed":"2015-05-03T12:12:43.180Z","device":{"channel":"c1","device_type":"ANDROID"},"body":{"session_id":"s"}}`)
}

func aggregate(t *testing.T, datas ...[]byte) []byte {
	t.Helper()
	a, err := batch.NewAggregator()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range datas {
		if err := a.Add(batch.Record{PartitionKey: "pk", Data: d}); err != nil {
			t.Fatal(err)
		}
	}
	return a.Build().Data
}

// emails returns "event id/named user" for each "would send uninstall
// email" line the function logged.
func emails(t *testing.T, out string) []string {
	var got []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var line struct {
			Msg   string `json:"msg"`
			Event string `json:"event_id"`
			Named string `json:"named_user_id"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "would send uninstall email" {
			got = append(got, line.Event+"/"+line.Named)
		}
	}
	return got
}

// The function built from this directory, run by lambda.Start against a
// Runtime API on 127.0.0.1, on events built from records written to and
// read from kinesalite: plain records, then a KPL aggregate delivered
// twice (as Lambda retries it) and a poison record.
func TestFunctionThroughTheLambdaRuntime(t *testing.T) {
	client := kinesalite(t)
	plain := roundTrip(t, client,
		uninstall("ff76bb85-0001", "user-1"), open("o-1"), uninstall("ff76bb85-0002", ""), uninstall("ff76bb85-0003", "user-3"))
	agg := roundTrip(t, client,
		aggregate(t, uninstall("agg-1", "user-a1"), open("o-2"), uninstall("agg-2", "user-a2"), uninstall("agg-3", "")),
		[]byte("not an RTDS event"),
		uninstall("ff76bb85-0004", "user-4"))

	api := newRuntimeAPI(t)
	stop := startFunction(t, api)
	for i, ev := range []events.KinesisEvent{plain, agg, agg} {
		if resp := api.invoke(t, ev); len(resp.BatchItemFailures) != 0 {
			t.Errorf("invocation %d: batch item failures %v", i, resp.BatchItemFailures)
		}
	}
	out := stop()
	want := []string{"ff76bb85-0001/user-1", "ff76bb85-0003/user-3", "agg-1/user-a1", "agg-2/user-a2", "ff76bb85-0004/user-4"}
	if got := emails(t, out); !slices.Equal(got, want) {
		t.Errorf("emails %v, want %v (one per named uninstall; the redelivered batch deduplicated)\nfunction output:\n%s", got, want, out)
	}
	if !strings.Contains(out, "poison record skipped") {
		t.Errorf("the record that is not an event was not dead-lettered:\n%s", out)
	}
}
