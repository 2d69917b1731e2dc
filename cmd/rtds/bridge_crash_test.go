package main

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rtdskit/rtds/internal/testenv"
)

// A bridge killed with SIGKILL at random points and restarted loses
// nothing: every event reaches the stream, and the duplicates are bounded
// by what the API sent again after a restart. The offset is stored in a
// file and in DynamoDB.
func TestBridgeSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	client, ep := testenv.Kinesalite(t)
	_, ddbEP := testenv.DynamoDB(t)
	bin := rtdsBinary(t)
	tests := []struct {
		name, reason string
		events       int
		kills        int
		// rate paces the API, so that each kill comes before the end.
		rate       int
		checkpoint func(dir string) string
	}{
		{"file", "the offset in a local file", 50000, 5, 15000, func(dir string) string { return "file://" + filepath.Join(dir, "offset.json") }},
		{"dynamodb", "the offset in DynamoDB (dynalite)", 10000, 2, 1500, func(string) string { return "dynamodb://" + testenv.UniqueName("bridge-cp") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name, _ := testenv.CreateStream(t, client, 2)
			events := make([][]byte, tc.events)
			for i := range events {
				events[i] = []byte(testEvent(i + 1))
			}
			s, tokenFile, _ := bridgeSetup(t, ep, "", events, tc.rate)
			cp := tc.checkpoint(t.TempDir())
			stored := func() string { return crashStoredOffset(t, cp, ddbEP, name) }
			env := append(os.Environ(), "AWS_ENDPOINT_URL_KINESIS="+ep, "AWS_ENDPOINT_URL_DYNAMODB="+ddbEP,
				"AWS_REGION="+testenv.Region, "AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=secret")
			start := func() (*exec.Cmd, *syncBuffer) {
				cmd := exec.Command(bin, "bridge", "--app-key", bridgeAppKey, "--token-file", tokenFile, "--stream", name,
					"--connect-url", s.URL, "--checkpoint", cp, "--checkpoint-interval", "20ms")
				stderr := newSyncBuffer()
				cmd.Env, cmd.Stderr = env, stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				return cmd, stderr
			}
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
			step := int64(tc.events / (tc.kills + 1))
			// Kill k happens at a random point after the stored offset
			// passed a random target in the k-th of kills+1 slices.
			storedInt := func() int64 {
				off, _ := strconv.ParseInt(stored(), 10, 64)
				return off
			}
			for k := range tc.kills {
				at := int64(k)*step + rng.Int64N(step) + 1
				prev := storedInt()
				cmd, stderr := start()
				waitFor(t, 60*time.Second, "the offset to pass the kill target", func() bool {
					off := storedInt()
					return off >= at && off > prev
				})
				time.Sleep(time.Duration(rng.Int64N(int64(100 * time.Millisecond))))
				cmd.Process.Signal(syscall.SIGKILL)
				cmd.Wait()
				t.Logf("kill %d: target %d, stored offset %s, the API sent %d lines so far", k+1, at, stored(), s.Sent())
				if storedInt() >= int64(tc.events) {
					t.Errorf("kill %d came after the last event was delivered", k+1)
				}
				if strings.Contains(stderr.String(), bridgeToken) {
					t.Error("the token was printed")
				}
			}
			last := events[len(events)-1]
			lastOffset := strings.Split(strings.Split(string(last), `"offset":"`)[1], `"`)[0]
			cmd, stderr := start()
			waitFor(t, 10*time.Second, "the last run to start", func() bool { return strings.Contains(stderr.String(), "resuming after offset") })
			waitFor(t, 90*time.Second, "the last offset to be stored", func() bool { return stored() == lastOffset })
			cmd.Process.Signal(syscall.SIGINT)
			err := cmd.Wait()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
				t.Errorf("last run: %v; stderr:\n%s", err, stderr)
			}

			got := readLines(t, client, name)
			missing, dups := 0, 0
			for _, e := range events {
				switch n := got[string(e)]; n {
				case 0:
					missing++
				default:
					dups += n - 1
				}
			}
			resent := int(s.Sent()) - tc.events
			t.Logf("%d events, %d kills: %d missing, %d duplicates; the API sent %d events more than once", tc.events, tc.kills, missing, dups, resent)
			if missing > 0 || dups > resent || len(got) != tc.events {
				t.Errorf("%d missing, %d duplicates (at most %d), %d distinct records", missing, dups, resent, len(got))
			}
		})
	}
}

// crashStoredOffset reads the offset from a file:// or dynamodb://
// checkpoint.
func crashStoredOffset(t *testing.T, cp, ddbEP, stream string) string {
	if path, ok := strings.CutPrefix(cp, "file://"); ok {
		return storedOffset(t, path)
	}
	table := strings.TrimPrefix(cp, "dynamodb://")
	c := dynamodb.NewFromConfig(testenv.Config(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(ddbEP) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]ddbtypes.AttributeValue{
			"app_stream": &ddbtypes.AttributeValueMemberS{Value: "rtds-bridge#" + stream},
			"shard_id":   &ddbtypes.AttributeValueMemberS{Value: "connect#" + bridgeAppKey},
		}})
	if err != nil {
		return ""
	}
	v, _ := out.Item[ddbAttrConnectOffset].(*ddbtypes.AttributeValueMemberS)
	if v == nil {
		return ""
	}
	return v.Value
}
