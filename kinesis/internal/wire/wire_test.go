package wire

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/schemas"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithytime "github.com/aws/smithy-go/time"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var (
	sdkProto  = awsjson.New11(schemas.Kinesis_20131202)
	fastProto = Wrap(sdkProto)

	getRecordsSchema = smithy.NewOperationSchema(schemas.GetRecords, schemas.GetRecordsInput, schemas.GetRecordsOutput)
	putRecordsSchema = smithy.NewOperationSchema(schemas.PutRecords, schemas.PutRecordsInput, schemas.PutRecordsOutput)
	listShardsSchema = smithy.NewOperationSchema(schemas.ListShards, schemas.ListShardsInput, schemas.ListShardsOutput)

	cmpOpts = cmp.Options{
		cmpopts.IgnoreUnexported(types.Record{}, types.ChildShard{}, types.HashKeyRange{}, types.PutRecordsResultEntry{},
			sdkkinesis.GetRecordsOutput{}, sdkkinesis.PutRecordsOutput{}, sdkkinesis.ListShardsOutput{}),
		cmpopts.IgnoreTypes(middleware.Metadata{}),
	}
)

func response(status int, body []byte) *smithyhttp.Response {
	return &smithyhttp.Response{Response: &http.Response{
		StatusCode:    status,
		Header:        http.Header{},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
	}}
}

func deserialize(p smithyhttp.ClientProtocol, schema *smithy.OperationSchema, status int, body []byte, out smithy.Deserializable) error {
	return p.DeserializeResponse(context.Background(), schema, sdkkinesis.TypeRegistry, response(status, body), out)
}

// both decodes body with the SDK's codec and the fast one and fails the
// test if their results differ. It returns the fast result and error.
func bothGet(t testing.TB, body []byte) (*sdkkinesis.GetRecordsOutput, error) {
	t.Helper()
	want, got := &sdkkinesis.GetRecordsOutput{}, &sdkkinesis.GetRecordsOutput{}
	werr := deserialize(sdkProto, getRecordsSchema, 200, body, want)
	gerr := deserialize(fastProto, getRecordsSchema, 200, body, got)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("body %q: SDK error %v, fast error %v", body, werr, gerr)
	}
	if werr == nil && !cmp.Equal(want, got, cmpOpts) {
		t.Fatalf("body %q: fast and SDK differ (-sdk +fast):\n%s", body, cmp.Diff(want, got, cmpOpts))
	}
	return got, gerr
}

func bothPut(t testing.TB, body []byte) (*sdkkinesis.PutRecordsOutput, error) {
	t.Helper()
	want, got := &sdkkinesis.PutRecordsOutput{}, &sdkkinesis.PutRecordsOutput{}
	werr := deserialize(sdkProto, putRecordsSchema, 200, body, want)
	gerr := deserialize(fastProto, putRecordsSchema, 200, body, got)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("body %q: SDK error %v, fast error %v", body, werr, gerr)
	}
	if werr == nil && !cmp.Equal(want, got, cmpOpts) {
		t.Fatalf("body %q: fast and SDK differ (-sdk +fast):\n%s", body, cmp.Diff(want, got, cmpOpts))
	}
	return got, gerr
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestGetRecordsGolden(t *testing.T) {
	cases := []struct {
		name string
		body string
		fast bool // the fast decoder handles it itself (no fallback)
		want *sdkkinesis.GetRecordsOutput
	}{
		{
			name: "records",
			body: `{"MillisBehindLatest":0,"NextShardIterator":"AAAA/it+==","Records":[` +
				`{"ApproximateArrivalTimestamp":1.700000000123E9,"Data":"` + b64(`{"type":"OPEN"}`) + `","EncryptionType":"NONE","PartitionKey":"ch-1","SequenceNumber":"49590338271490256608559692538361571095921575989136588898"},` +
				`{"ApproximateArrivalTimestamp":1700000001,"Data":"","PartitionKey":"k","SequenceNumber":"2","EncryptionType":"KMS"}]}`,
			fast: true,
			want: &sdkkinesis.GetRecordsOutput{
				MillisBehindLatest: aws.Int64(0),
				NextShardIterator:  aws.String("AAAA/it+=="),
				Records: []types.Record{
					{ApproximateArrivalTimestamp: aws.Time(time.UnixMilli(1700000000123).UTC()), Data: []byte(`{"type":"OPEN"}`), EncryptionType: types.EncryptionTypeNone, PartitionKey: aws.String("ch-1"), SequenceNumber: aws.String("49590338271490256608559692538361571095921575989136588898")},
					{ApproximateArrivalTimestamp: aws.Time(time.Unix(1700000001, 0).UTC()), Data: []byte{}, EncryptionType: types.EncryptionTypeKms, PartitionKey: aws.String("k"), SequenceNumber: aws.String("2")},
				},
			},
		},
		{name: "empty records", body: `{"Records":[],"NextShardIterator":"x","MillisBehindLatest":12}`, fast: true,
			want: &sdkkinesis.GetRecordsOutput{Records: []types.Record{}, NextShardIterator: aws.String("x"), MillisBehindLatest: aws.Int64(12)}},
		{name: "empty object", body: `{}`, fast: true, want: &sdkkinesis.GetRecordsOutput{}},
		{name: "empty body", body: ``, want: &sdkkinesis.GetRecordsOutput{}},
		{name: "white space", body: " \n\t{ \"Records\" : [ ] , \"MillisBehindLatest\" : 5 }\r\n", fast: true,
			want: &sdkkinesis.GetRecordsOutput{Records: []types.Record{}, MillisBehindLatest: aws.Int64(5)}},
		{name: "escaped strings", body: `{"Records":[{"PartitionKey":"a\"b\\c\/d\u00e9\ud83d\ude00\n\t\b\f\r","SequenceNumber":"\u0031","Data":"QUJD\/w=="}]}`, fast: true,
			want: &sdkkinesis.GetRecordsOutput{Records: []types.Record{{PartitionKey: aws.String("a\"b\\c/d\u00e9\U0001F600\n\t\b\f\r"), SequenceNumber: aws.String("1"), Data: []byte{'A', 'B', 'C', 0xff}}}}},
		{name: "unpaired surrogate", body: `{"Records":[{"PartitionKey":"\ud83dx\udc00"}]}`, fast: true,
			want: &sdkkinesis.GetRecordsOutput{Records: []types.Record{{PartitionKey: aws.String("\uFFFDx\uFFFD")}}}},
		{name: "raw unicode", body: `{"Records":[{"PartitionKey":"日本語 ключ"}]}`, fast: true,
			want: &sdkkinesis.GetRecordsOutput{Records: []types.Record{{PartitionKey: aws.String("日本語 ключ")}}}},
		{name: "nulls", body: `{"Records":[null,{"Data":null,"PartitionKey":null,"SequenceNumber":"1","ApproximateArrivalTimestamp":null,"EncryptionType":null}],"NextShardIterator":null,"MillisBehindLatest":null,"ChildShards":null}`, fast: true,
			want: &sdkkinesis.GetRecordsOutput{Records: []types.Record{{}, {SequenceNumber: aws.String("1")}}}},
		{name: "records null", body: `{"Records":null}`, fast: true, want: &sdkkinesis.GetRecordsOutput{}},
		{name: "unknown fields", body: `{"Extra":{"a":[1,2.5e3,-0.1,true,false,null,"x\"",{}],"b":[]},"Records":[{"Future":[[[]]],"SequenceNumber":"1"}],"Z":"z"}`, fast: true,
			want: &sdkkinesis.GetRecordsOutput{Records: []types.Record{{SequenceNumber: aws.String("1")}}}},
		{name: "child shards", body: `{"Records":[],"ChildShards":[{"ShardId":"shardId-000000000002","ParentShards":["shardId-000000000000","shardId-000000000001"],"HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"340282366920938463463374607431768211455"}},null,{"ParentShards":[null,"p"],"HashKeyRange":null}],"MillisBehindLatest":0}`, fast: true,
			want: &sdkkinesis.GetRecordsOutput{Records: []types.Record{}, MillisBehindLatest: aws.Int64(0), ChildShards: []types.ChildShard{
				{ShardId: aws.String("shardId-000000000002"), ParentShards: []string{"shardId-000000000000", "shardId-000000000001"}, HashKeyRange: &types.HashKeyRange{StartingHashKey: aws.String("0"), EndingHashKey: aws.String("340282366920938463463374607431768211455")}},
				{},
				{ParentShards: []string{"", "p"}},
			}}},
		{name: "huge millis", body: `{"MillisBehindLatest":9223372036854775807}`, fast: true, want: &sdkkinesis.GetRecordsOutput{MillisBehindLatest: aws.Int64(math.MaxInt64)}},
		{name: "timestamp rounding", body: `{"Records":[{"ApproximateArrivalTimestamp":1.001},{"ApproximateArrivalTimestamp":-1.5},{"ApproximateArrivalTimestamp":1e3}]}`, fast: true,
			want: &sdkkinesis.GetRecordsOutput{Records: []types.Record{{ApproximateArrivalTimestamp: aws.Time(smithytime.ParseEpochSeconds(1.001))}, {ApproximateArrivalTimestamp: aws.Time(time.UnixMilli(-1500).UTC())}, {ApproximateArrivalTimestamp: aws.Time(time.Unix(1000, 0).UTC())}}}},
		{name: "duplicate keys", body: `{"Records":[{"SequenceNumber":"2","SequenceNumber":"3","PartitionKey":"a","PartitionKey":null,"Data":"QQ==","Data":null}],"NextShardIterator":"a","NextShardIterator":"b"}`, fast: true,
			want: &sdkkinesis.GetRecordsOutput{NextShardIterator: aws.String("b"), Records: []types.Record{{SequenceNumber: aws.String("3"), PartitionKey: aws.String("a"), Data: []byte("A")}}}},
		{name: "duplicate records fall back", body: `{"Records":[{"SequenceNumber":"1"}],"Records":[{"SequenceNumber":"2","Data":"QQ==","Data":"Qg=="}]}`,
			want: &sdkkinesis.GetRecordsOutput{Records: []types.Record{{SequenceNumber: aws.String("2"), Data: []byte("B")}}}},
		{name: "other encryption type", body: `{"Records":[{"EncryptionType":"FUTURE"},{"EncryptionType":"N\u004fNE"}]}`, fast: true,
			want: &sdkkinesis.GetRecordsOutput{Records: []types.Record{{EncryptionType: "FUTURE"}, {EncryptionType: types.EncryptionTypeNone}}}},
		{name: "base64 with escaped newline", body: `{"Records":[{"Data":"QUJD\nREVG"}]}`, fast: true,
			want: &sdkkinesis.GetRecordsOutput{Records: []types.Record{{Data: []byte("ABCDEF")}}}},
		{name: "escaped member name falls back", body: `{"Rec\u006frds":[{"SequenceNumber":"1"}]}`,
			want: &sdkkinesis.GetRecordsOutput{Records: []types.Record{{SequenceNumber: aws.String("1")}}}},
		{name: "trailing data", body: `{"MillisBehindLatest":1} trailing`, fast: true, want: &sdkkinesis.GetRecordsOutput{MillisBehindLatest: aws.Int64(1)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := bothGet(t, []byte(tc.body))
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if !cmp.Equal(tc.want, got, cmpOpts) {
				t.Errorf("(-want +got):\n%s", cmp.Diff(tc.want, got, cmpOpts))
			}
			if tc.fast && !decodeGetRecords([]byte(tc.body), &sdkkinesis.GetRecordsOutput{}) {
				t.Errorf("the fast decoder fell back to the SDK")
			}
		})
	}
}

func TestGetRecordsMalformed(t *testing.T) {
	for _, body := range []string{
		`{`, `{"Records":[`, `{"Records":[{"Data":"QUJD"}`, `{"Records":{}}`, `{"Records":[1]}`,
		`{"Records":[{"Data":"QUJ"}]}`, "{\"Records\":[{\"Data\":\"QU\tJD\"}]}", "{\"Records\":[{\"Data\":\"QU\nJD\"}]}", `{"Records":[{"Data":"QUJD`, `{"Records":[{"Data":" 000","Data":""}]}`, `{"Records":[{"Data":"!"}],"Records":[]}`, `{"Records":[{"Data":"Q!=="}]}`, `{"Records":[{"Data":5}]}`,
		`{"MillisBehindLatest":1.5}`, `{"MillisBehindLatest":"1"}`, `{"MillisBehindLatest":92233720368547758070}`,
		`{"Records":[{"ApproximateArrivalTimestamp":"x"}]}`, `{"Records":[{"ApproximateArrivalTimestamp":1e400}]}`,
		`{"Records":[{"PartitionKey":"a` + "\n" + `"}]}`, `{"Records":[{"PartitionKey":"\x"}]}`, `{"Records":[{"PartitionKey":"\u12"}]}`,
		`{"a":01}`, `{"a":-}`, `{"a":1.}`, `{"a":1e}`, `{"a":tru}`, `{"a" 1}`, `{"a":1,}`, `{,}`, `{"a":[1,]}`,
		`[]`, `"x"`, ` `, `null`, `{"ChildShards":[{"ParentShards":[1]}]}`, `{"ChildShards":{}}`,
		`{"NextShardIterator":5}`, `{"Records":[{"EncryptionType":1}]}`,
		`{"a":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}`,
	} {
		got, err := bothGet(t, []byte(body))
		_ = got
		_ = err
	}
}

// putBody serializes in with the given protocol and returns the request.
func serialize(t testing.TB, p smithyhttp.ClientProtocol, schema *smithy.OperationSchema, in smithy.Serializable) (*smithyhttp.Request, []byte) {
	t.Helper()
	req := smithyhttp.NewStackRequest().(*smithyhttp.Request)
	req.URL, _ = url.Parse("https://kinesis.example.com")
	if err := p.SerializeRequest(context.Background(), schema, in, req); err != nil {
		t.Fatalf("serialize: %v", err)
	}
	var body []byte
	if s := req.GetStream(); s != nil {
		body, _ = io.ReadAll(s)
	}
	return req, body
}

func comparePut(t testing.TB, in *sdkkinesis.PutRecordsInput) {
	t.Helper()
	wreq, want := serialize(t, sdkProto, putRecordsSchema, in)
	greq, got := serialize(t, fastProto, putRecordsSchema, in)
	if !bytes.Equal(want, got) {
		t.Fatalf("bodies differ:\nsdk:  %q\nfast: %q", want, got)
	}
	if n := putRecordsLen(in); n != len(got) {
		t.Fatalf("putRecordsLen %d, body %d bytes", n, len(got))
	}
	if wreq.Method != greq.Method || wreq.URL.String() != greq.URL.String() || !cmp.Equal(wreq.Header, greq.Header) || wreq.ContentLength != greq.ContentLength {
		t.Fatalf("requests differ: sdk %s %s %v %d, fast %s %s %v %d", wreq.Method, wreq.URL, wreq.Header, wreq.ContentLength, greq.Method, greq.URL, greq.Header, greq.ContentLength)
	}
	if !greq.IsStreamSeekable() {
		t.Fatalf("the fast body is not seekable")
	}
}

func TestPutRecordsSerialize(t *testing.T) {
	for _, in := range []*sdkkinesis.PutRecordsInput{
		{},
		{Records: []types.PutRecordsRequestEntry{}, StreamName: aws.String("s")},
		{Records: []types.PutRecordsRequestEntry{{Data: []byte("hello"), PartitionKey: aws.String("k")}}, StreamName: aws.String("s")},
		{DryRun: aws.Bool(true), Records: []types.PutRecordsRequestEntry{{Data: []byte{}, PartitionKey: aws.String("")}, {}, {Data: []byte{0, 1, 2, 255}, ExplicitHashKey: aws.String("123"), PartitionKey: aws.String("a\"b\\c\n\r\t\x00\x1f\x7f é\u2028\u2029\xff日本")}}, StreamARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/s"), StreamId: aws.String("id"), StreamName: aws.String("s\"")},
		{DryRun: aws.Bool(false), StreamARN: aws.String("arn")},
	} {
		comparePut(t, in)
	}
}

// Other operations go to the SDK's codec untouched.
func TestOtherOperationsDelegate(t *testing.T) {
	in := &sdkkinesis.ListShardsInput{StreamName: aws.String("s"), MaxResults: aws.Int32(5)}
	wreq, want := serialize(t, sdkProto, listShardsSchema, in)
	greq, got := serialize(t, fastProto, listShardsSchema, in)
	if !bytes.Equal(want, got) || !cmp.Equal(wreq.Header, greq.Header) {
		t.Fatalf("ListShards differs: %q %v vs %q %v", want, wreq.Header, got, greq.Header)
	}
	body := []byte(`{"Shards":[{"ShardId":"shardId-000000000000","HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"1"},"SequenceNumberRange":{"StartingSequenceNumber":"1"}}],"NextToken":"t"}`)
	w, g := &sdkkinesis.ListShardsOutput{}, &sdkkinesis.ListShardsOutput{}
	if err := deserialize(sdkProto, listShardsSchema, 200, body, w); err != nil {
		t.Fatal(err)
	}
	if err := deserialize(fastProto, listShardsSchema, 200, body, g); err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(w, g, cmpopts.IgnoreUnexported(sdkkinesis.ListShardsOutput{}, types.Shard{}, types.HashKeyRange{}, types.SequenceNumberRange{}), cmpopts.IgnoreTypes(middleware.Metadata{})) {
		t.Fatalf("ListShards answers differ")
	}
	if Wrap(fastProto) != fastProto {
		t.Errorf("Wrap wraps twice")
	}
}

// Error answers go to the SDK's codec, so errors.As on its types works.
func TestErrorsDelegate(t *testing.T) {
	for _, tc := range []struct {
		body   string
		header string
		check  func(error) bool
	}{
		{`{"__type":"ProvisionedThroughputExceededException","message":"Rate exceeded for shard"}`, "", func(err error) bool {
			var e *types.ProvisionedThroughputExceededException
			return asErr(err, &e) && e.ErrorMessage() == "Rate exceeded for shard"
		}},
		{`{"__type":"com.amazonaws.kinesis.v20131202#ResourceNotFoundException","message":"Stream s not found"}`, "", func(err error) bool {
			var e *types.ResourceNotFoundException
			return asErr(err, &e)
		}},
		{`{"message":"expired"}`, "ExpiredIteratorException:http://internal.amazon.com/coral/com.amazonaws.kinesis.v20131202/", func(err error) bool {
			var e *types.ExpiredIteratorException
			return asErr(err, &e)
		}},
	} {
		for _, schema := range []*smithy.OperationSchema{getRecordsSchema, putRecordsSchema} {
			resp := response(400, []byte(tc.body))
			if tc.header != "" {
				resp.Header.Set("X-Amzn-ErrorType", tc.header)
			}
			var out smithy.Deserializable = &sdkkinesis.GetRecordsOutput{}
			if schema == putRecordsSchema {
				out = &sdkkinesis.PutRecordsOutput{}
			}
			err := fastProto.DeserializeResponse(context.Background(), schema, sdkkinesis.TypeRegistry, resp, out)
			if err == nil || !tc.check(err) {
				t.Errorf("%s: error %T %v", tc.body, err, err)
			}
		}
	}
}

func asErr[T error](err error, target *T) bool {
	e, ok := err.(T)
	if ok {
		*target = e
	}
	return ok
}

func TestPutRecordsAnswerGolden(t *testing.T) {
	for _, tc := range []struct {
		body string
		want *sdkkinesis.PutRecordsOutput
	}{
		{`{"FailedRecordCount":1,"Records":[{"SequenceNumber":"1","ShardId":"shardId-000000000000"},{"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"Rate exceeded for shard shardId-000000000001 in stream s under account 000000000000. \"quoted\" \u00e9"},null],"EncryptionType":"KMS"}`,
			&sdkkinesis.PutRecordsOutput{FailedRecordCount: aws.Int32(1), EncryptionType: types.EncryptionTypeKms, Records: []types.PutRecordsResultEntry{
				{SequenceNumber: aws.String("1"), ShardId: aws.String("shardId-000000000000")},
				{ErrorCode: aws.String("ProvisionedThroughputExceededException"), ErrorMessage: aws.String("Rate exceeded for shard shardId-000000000001 in stream s under account 000000000000. \"quoted\" \u00e9")},
				{},
			}}},
		{`{"FailedRecordCount":0,"Records":[]}`, &sdkkinesis.PutRecordsOutput{FailedRecordCount: aws.Int32(0), Records: []types.PutRecordsResultEntry{}}},
		{`{"EncryptionType":"NONE","Unknown":{"x":[null]},"FailedRecordCount":null}`, &sdkkinesis.PutRecordsOutput{EncryptionType: types.EncryptionTypeNone}},
		{`{"FailedRecordCount":2147483648}`, nil},
	} {
		got, err := bothPut(t, []byte(tc.body))
		if tc.want == nil {
			if err == nil {
				t.Errorf("%s: no error", tc.body)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.body, err)
		}
		if !cmp.Equal(tc.want, got, cmpOpts) {
			t.Errorf("%s (-want +got):\n%s", tc.body, cmp.Diff(tc.want, got, cmpOpts))
		}
		if !decodePutRecords([]byte(tc.body), &sdkkinesis.PutRecordsOutput{}) {
			t.Errorf("%s: fell back", tc.body)
		}
	}
}

// Records' data slices cannot grow into each other.
func TestRecordDataCapped(t *testing.T) {
	out, err := bothGet(t, []byte(`{"Records":[{"Data":"`+b64("abc")+`"},{"Data":"`+b64("def")+`"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = append(out.Records[0].Data, 'X')
	if string(out.Records[1].Data) != "def" {
		t.Fatalf("appending to one record's data changed the next: %q", out.Records[1].Data)
	}
}

func TestEpoch(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := []float64{0, -0.0005, 0.0005, 1.001, 1.0005, -1.001, 1700000000.123, 1700000000.1234567, 4398046511103.999, -4398046511103.999, 1e15, -1e15, 1 << 42}
	for range 100000 {
		vals = append(vals, float64(r.Int64N(4e12))/1000+float64(r.IntN(3)-1)*1e-7, r.Float64()*4e9, -r.Float64()*4e9)
	}
	for _, v := range vals {
		if got, want := epoch(v), smithytime.ParseEpochSeconds(v); !got.Equal(want) {
			t.Fatalf("epoch(%v) = %v, SDK %v", v, got, want)
		}
	}
}

// randomOutput is a GetRecords answer of n records with random content.
func randomOutput(r *rand.Rand, n, size int) *sdkkinesis.GetRecordsOutput {
	str := func() *string {
		switch r.IntN(8) {
		case 0:
			return nil
		case 1:
			s := string([]rune{rune(r.IntN(0x10FFFF)), '"', '\\', rune(r.IntN(32)), 0x7f, 0x2028})
			return &s
		case 2:
			b := make([]byte, r.IntN(20))
			for i := range b {
				b[i] = byte(r.IntN(256))
			}
			s := string(b)
			return &s
		default:
			s := fmt.Sprintf("%d", r.Int64())
			return &s
		}
	}
	out := &sdkkinesis.GetRecordsOutput{NextShardIterator: str()}
	if r.IntN(4) > 0 {
		out.MillisBehindLatest = aws.Int64(r.Int64N(1 << 40))
	}
	if r.IntN(4) > 0 {
		out.Records = make([]types.Record, n)
		for i := range out.Records {
			rec := &out.Records[i]
			if r.IntN(10) > 0 {
				rec.Data = make([]byte, r.IntN(size+1))
				for j := range rec.Data {
					rec.Data[j] = byte(r.IntN(256))
				}
			}
			rec.PartitionKey, rec.SequenceNumber = str(), str()
			if r.IntN(5) > 0 {
				rec.ApproximateArrivalTimestamp = aws.Time(time.UnixMilli(r.Int64N(4e12)))
			}
			rec.EncryptionType = []types.EncryptionType{"", "NONE", "KMS", "OTHER"}[r.IntN(4)]
		}
	}
	if r.IntN(3) == 0 {
		out.ChildShards = []types.ChildShard{{ShardId: str(), ParentShards: []string{"a", "b"}, HashKeyRange: &types.HashKeyRange{StartingHashKey: str(), EndingHashKey: str()}}}
	}
	return out
}

// sdkBody serializes v (an output shape) with the SDK's own JSON
// serializer, through its protocol with v as the "input".
func sdkBody(t testing.TB, outSchema *smithy.Schema, v smithy.Serializable) []byte {
	t.Helper()
	_, body := serialize(t, sdkProto, smithy.NewOperationSchema(schemas.GetRecords, outSchema, nil), v)
	return body
}

func TestGetRecordsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 500 {
		in := randomOutput(r, r.IntN(20), 64)
		body := sdkBody(t, schemas.GetRecordsOutput, in)
		got, err := bothGet(t, body)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if !decodeGetRecords(body, &sdkkinesis.GetRecordsOutput{}) {
			t.Fatalf("%d: fell back on the SDK's own output %q", i, body)
		}
		_ = got
	}
}

func TestPutRecordsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 500 {
		o := randomOutput(r, r.IntN(20), 64)
		in := &sdkkinesis.PutRecordsInput{StreamName: o.NextShardIterator, StreamARN: o.NextShardIterator}
		if o.Records != nil {
			in.Records = []types.PutRecordsRequestEntry{}
		}
		for _, rec := range o.Records {
			in.Records = append(in.Records, types.PutRecordsRequestEntry{Data: rec.Data, PartitionKey: rec.PartitionKey, ExplicitHashKey: rec.SequenceNumber})
		}
		comparePut(t, in)

		ans := &sdkkinesis.PutRecordsOutput{EncryptionType: []types.EncryptionType{"", "NONE", "KMS", "X"}[r.IntN(4)], FailedRecordCount: aws.Int32(r.Int32())}
		for _, rec := range o.Records {
			ans.Records = append(ans.Records, types.PutRecordsResultEntry{SequenceNumber: rec.SequenceNumber, ShardId: rec.PartitionKey, ErrorCode: o.NextShardIterator, ErrorMessage: rec.PartitionKey})
		}
		body := sdkBody(t, schemas.PutRecordsOutput, ans)
		if _, err := bothPut(t, body); err != nil {
			t.Fatal(err)
		}
		if !decodePutRecords(body, &sdkkinesis.PutRecordsOutput{}) {
			t.Fatalf("fell back on the SDK's own output %q", body)
		}
	}
}

func FuzzGetRecordsDecode(f *testing.F) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 8 {
		f.Add(sdkBody(f, schemas.GetRecordsOutput, randomOutput(r, r.IntN(4), 8)))
	}
	f.Add([]byte(`{"Records":[{"PartitionKey":"\ud83d\ude00","Data":"QQ==","ApproximateArrivalTimestamp":1.5}],"ChildShards":[{"ParentShards":["a"]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		decodeGetRecords(body, &sdkkinesis.GetRecordsOutput{}) // never panics
		decodePutRecords(body, &sdkkinesis.PutRecordsOutput{})
		if sdkPanics(func() { deserialize(sdkProto, getRecordsSchema, 200, body, &sdkkinesis.GetRecordsOutput{}) }) {
			t.Skip("the SDK's codec panics on this input")
		}
		bothGet(t, body)
		bothPut(t, body)
	})
}

// sdkPanics reports whether f panics (the SDK's epoch conversion panics on
// a "NaN" timestamp).
func sdkPanics(f func()) (panicked bool) {
	defer func() {
		if recover() != nil {
			panicked = true
		}
	}()
	f()
	return false
}

func FuzzPutRecordsEncode(f *testing.F) {
	f.Add([]byte("data"), "key", "123", "stream", true)
	f.Add([]byte{}, "\xff\u2028\"\\\x00", "", "", false)
	f.Fuzz(func(t *testing.T, data []byte, key, hash, stream string, dry bool) {
		in := &sdkkinesis.PutRecordsInput{
			Records:    []types.PutRecordsRequestEntry{{Data: data, PartitionKey: &key, ExplicitHashKey: &hash}, {Data: data, PartitionKey: &stream}},
			StreamName: &stream,
		}
		if dry {
			in.DryRun = &dry
			in.StreamARN = &key
		}
		comparePut(t, in)
	})
}
