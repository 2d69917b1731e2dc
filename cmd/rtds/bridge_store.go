package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rtdskit/rtds/kinesis/dynamodbstore"
)

// offsetStore keeps rtds bridge's resume offset: the Data Streaming API
// offset up to which every event is delivered to Kinesis.
type offsetStore interface {
	// load returns the stored offset; ok is false when none is stored.
	load(ctx context.Context) (offset string, ok bool, err error)
	save(ctx context.Context, offset string) error
	// String is the store as given to --checkpoint.
	String() string
}

// parseCheckpoint checks a --checkpoint value: file://PATH or
// dynamodb://TABLE.
func parseCheckpoint(spec string) (scheme, rest string, err error) {
	scheme, rest, ok := strings.Cut(spec, "://")
	if !ok || rest == "" || scheme != "file" && scheme != "dynamodb" {
		return "", "", fmt.Errorf("--checkpoint %q: want file://PATH or dynamodb://TABLE", spec)
	}
	return scheme, rest, nil
}

// openOffsetStore opens the --checkpoint store for the app key's stream
// bridged into stream. A DynamoDB table is created when missing, with the
// layout of kinesis/dynamodbstore (so one table can hold both).
func openOffsetStore(ctx context.Context, env *cmdEnv, aw *awsSetup, spec, appKey, stream string) (offsetStore, error) {
	scheme, rest, err := parseCheckpoint(spec)
	if err != nil {
		return nil, err
	}
	if scheme == "file" {
		return &fileOffsetStore{spec: spec, path: rest, appKey: appKey, stream: stream}, nil
	}
	client, err := aw.dynamoDB(env)
	if err != nil {
		return nil, err
	}
	tbl, err := dynamodbstore.New(client, rest)
	if err != nil {
		return nil, fmt.Errorf("--checkpoint %s: %w", spec, err)
	}
	if err := tbl.EnsureTable(ctx); err != nil {
		return nil, fmt.Errorf("--checkpoint %s: %w", spec, err)
	}
	return &dynamoOffsetStore{spec: spec, client: client, table: rest,
		key: map[string]ddbtypes.AttributeValue{
			"app_stream": &ddbtypes.AttributeValueMemberS{Value: "rtds-bridge#" + stream},
			"shard_id":   &ddbtypes.AttributeValueMemberS{Value: "connect#" + appKey},
		}}, nil
}

// fileOffsetStore keeps the offset in a small JSON file, replaced
// atomically (written aside, synced, renamed).
type fileOffsetStore struct {
	spec, path     string
	appKey, stream string
}

type offsetFile struct {
	Offset string    `json:"offset"`
	AppKey string    `json:"app_key"`
	Stream string    `json:"stream"`
	Saved  time.Time `json:"saved"`
}

func (f *fileOffsetStore) String() string { return f.spec }

func (f *fileOffsetStore) load(context.Context) (string, bool, error) {
	b, err := os.ReadFile(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	var of offsetFile
	if err := json.Unmarshal(b, &of); err != nil || of.Offset == "" {
		return "", false, fmt.Errorf("%s: not an rtds bridge checkpoint (want {\"offset\": ...})", f.path)
	}
	if of.AppKey != f.appKey {
		return "", false, fmt.Errorf("%s: the checkpoint of app key %s, not %s", f.path, of.AppKey, f.appKey)
	}
	return of.Offset, true, nil
}

func (f *fileOffsetStore) save(_ context.Context, offset string) error {
	b, err := json.Marshal(offsetFile{Offset: offset, AppKey: f.appKey, Stream: f.stream, Saved: time.Now().UTC()})
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.path), filepath.Base(f.path)+".tmp*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), f.path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// dynamoOffsetStore keeps the offset in one item of a kinesis/dynamodbstore
// table: app_stream "rtds-bridge#STREAM", shard_id "connect#APPKEY".
type dynamoOffsetStore struct {
	spec   string
	client *dynamodb.Client
	table  string
	key    map[string]ddbtypes.AttributeValue
}

const ddbAttrConnectOffset = "connect_offset"

func (d *dynamoOffsetStore) String() string { return d.spec }

func (d *dynamoOffsetStore) load(ctx context.Context) (string, bool, error) {
	out, err := d.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(d.table), Key: d.key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", false, err
	}
	v, ok := out.Item[ddbAttrConnectOffset].(*ddbtypes.AttributeValueMemberS)
	if !ok || v.Value == "" {
		return "", false, nil
	}
	return v.Value, true, nil
}

func (d *dynamoOffsetStore) save(ctx context.Context, offset string) error {
	item := map[string]ddbtypes.AttributeValue{
		ddbAttrConnectOffset: &ddbtypes.AttributeValueMemberS{Value: offset},
		"checkpoint_updated": &ddbtypes.AttributeValueMemberS{Value: time.Now().UTC().Format(time.RFC3339Nano)},
	}
	for k, v := range d.key {
		item[k] = v
	}
	_, err := d.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(d.table), Item: item})
	return err
}
