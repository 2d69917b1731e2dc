package wire

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
)

const putAnswer = `{"FailedRecordCount":0,"Records":[{"SequenceNumber":"1","ShardId":"shardId-000000000000"},{"SequenceNumber":"2","ShardId":"shardId-000000000001"}]}`

func testClient(url string) *sdkkinesis.Client {
	return sdkkinesis.New(sdkkinesis.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      staticCreds{},
		RetryMaxAttempts: 1,
	})
}

func twoRecords(tag string) *sdkkinesis.PutRecordsInput {
	in := putRecordsInput(2)
	for i := range in.Records {
		in.Records[i].Data = append([]byte(tag), in.Records[i].Data...)
	}
	return in
}

// A tracked call's body goes back to the pool once the server has read it
// and answered, and later tracked calls encode into pooled memory; every
// body the server receives is the SDK's own encoding.
func TestTrackedBodiesAreReused(t *testing.T) {
	var mu sync.Mutex
	var got [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		mu.Lock()
		got = append(got, b)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = io.WriteString(w, putAnswer)
	}))
	defer srv.Close()
	client := testClient(srv.URL)
	ctx := context.Background()
	seen := map[*byte]bool{}
	reused := 0
	for i := range 20 {
		in := twoRecords(string(rune('a' + i)))
		var tr Tracker
		out, err := client.PutRecords(Track(ctx, &tr), in, UseFast)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Records) != 2 {
			t.Fatalf("answer: %+v", out)
		}
		if tr.b == nil {
			t.Fatal("the tracker holds no body")
		}
		p := &tr.b.buf[:1][0]
		if seen[p] {
			reused++
		}
		seen[p] = true
		box, n := tr.box, cap(tr.b.buf)
		tr.Release(true)
		if tr.b != nil {
			t.Fatal("Release left the body in the tracker")
		}
		if cap(*box) != n {
			t.Fatalf("call %d: the read body did not go back to the pool", i)
		}
		want := encodePutRecords(nil, in)
		mu.Lock()
		last := got[len(got)-1]
		mu.Unlock()
		if !bytes.Equal(last, want) {
			t.Fatalf("call %d: server got %q, want %q", i, last, want)
		}
	}
	// sync.Pool drops entries at GCs and keeps them per P, so not every
	// call finds one, but some do.
	if reused == 0 {
		t.Fatal("no call reused a body")
	}
}

// A server that answers before reading the body leaves it unread: the
// tracker must not hand it back, whatever the caller says.
func TestUnreadBodyIsNotReused(t *testing.T) {
	b := &body{buf: encodePutRecords(nil, twoRecords("x"))}
	box := new([]byte)
	tr := Tracker{b: b, box: box}
	if _, err := b.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	tr.Release(true)
	if *box != nil {
		t.Fatal("a partly read body went back to the pool")
	}
	b = &body{buf: encodePutRecords(nil, twoRecords("y"))}
	tr = Tracker{b: b, box: box}
	if _, err := io.Copy(io.Discard, b); err != nil {
		t.Fatal(err)
	}
	tr.Release(false)
	if *box != nil {
		t.Fatal("the body of a failed call went back to the pool")
	}
	tr.Release(true) // a second Release does nothing
}

// The body reads, seeks and reports its length as a bytes.Reader does.
func TestBodyIsLikeBytesReader(t *testing.T) {
	data := []byte("0123456789")
	b := &body{buf: data}
	r := bytes.NewReader(data)
	for _, step := range []struct {
		off    int64
		whence int
	}{{3, io.SeekStart}, {2, io.SeekCurrent}, {-1, io.SeekEnd}, {0, io.SeekStart}, {20, io.SeekStart}} {
		n1, err1 := b.Seek(step.off, step.whence)
		n2, err2 := r.Seek(step.off, step.whence)
		if n1 != n2 || (err1 == nil) != (err2 == nil) {
			t.Fatalf("Seek(%d, %d): %d %v, bytes.Reader %d %v", step.off, step.whence, n1, err1, n2, err2)
		}
		if b.Len() != r.Len() {
			t.Fatalf("Len %d, bytes.Reader %d", b.Len(), r.Len())
		}
		var w1, w2 bytes.Buffer
		m1, _ := b.WriteTo(&w1)
		m2, _ := r.WriteTo(&w2)
		if m1 != m2 || w1.String() != w2.String() {
			t.Fatalf("WriteTo: %d %q, bytes.Reader %d %q", m1, w1.String(), m2, w2.String())
		}
		if _, err := b.Seek(-2, io.SeekEnd); err != nil {
			t.Fatal(err)
		}
		p := make([]byte, 5)
		if n, err := b.Read(p); n != 2 || err != nil {
			t.Fatalf("Read at the end: %d %v", n, err)
		}
		if n, err := b.Read(p); n != 0 || err != io.EOF {
			t.Fatalf("Read past the end: %d %v", n, err)
		}
		_, _ = r.Seek(0, io.SeekEnd)
	}
	if _, err := b.Seek(-1, io.SeekStart); err == nil {
		t.Fatal("a negative position was accepted")
	}
}
