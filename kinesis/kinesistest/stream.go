package kinesistest

import (
	"crypto/md5"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// maxHashKey is 2^128 - 1, the top of the partition key hash space.
var maxHashKey = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))

var streamNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,128}$`)

type stream struct {
	name, arn string
	mode      sdktypes.StreamMode
	created   time.Time
	shards    []*shard // in creation order, so shard ids ascend
	nextShard int
}

type shard struct {
	id               string
	start, end       *big.Int // inclusive hash key range
	parent, adjacent string
	startSeq         string
	endSeq           string // "" while the shard is open
	created          time.Time
	closed           time.Time
	children         []string
	records          []stored

	// Write throughput in the current one-second window, for
	// WithShardWriteLimit.
	window        time.Time
	windowRecords int
	windowBytes   int
}

type stored struct {
	Record
}

func (sh *shard) open() bool { return sh.endSeq == "" }

// ARN returns the ARN the fake gives a stream named name.
func ARN(name string) string {
	return "arn:aws:kinesis:" + Region + ":" + AccountID + ":stream/" + name
}

// nameFromARN returns the stream name in an ARN, or s itself if s is not an
// ARN.
func nameFromARN(s string) string {
	if !strings.HasPrefix(s, "arn:") {
		return s
	}
	if i := strings.LastIndex(s, ":stream/"); i >= 0 {
		return s[i+len(":stream/"):]
	}
	return s
}

func seqString(n uint64) string { return fmt.Sprintf("49%054d", n) }

// normSeq validates a caller's sequence number and strips leading zeros so
// seqLess can compare it with the fake's.
func normSeq(s string) (string, bool) {
	if s == "" || len(s) > 128 {
		return "", false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	s = strings.TrimLeft(s, "0")
	if s == "" {
		s = "0"
	}
	return s, true
}

func (f *Fake) shardID(s *stream) string {
	id := fmt.Sprintf("shardId-%012d", s.nextShard)
	s.nextShard++
	return id
}

func (f *Fake) newShard(s *stream, start, end *big.Int) *shard {
	sh := &shard{
		id:       f.shardID(s),
		start:    start,
		end:      end,
		startSeq: seqString(f.nextSeq + 1),
		created:  f.now(),
	}
	s.shards = append(s.shards, sh)
	return sh
}

func (f *Fake) closeShard(sh *shard) {
	f.nextSeq++
	sh.endSeq = seqString(f.nextSeq)
	sh.closed = f.now()
}

// createStream adds an ACTIVE stream whose n shards split the hash key space
// evenly. f.mu must be held (or f not yet shared).
func (f *Fake) createStream(name string, n int, mode sdktypes.StreamMode) error {
	if !streamNameRE.MatchString(name) {
		return invalidArg("stream name %q must match [a-zA-Z0-9_.-]{1,128}", name)
	}
	if n < 1 || n > 10000 {
		return invalidArg("shard count %d must be between 1 and 10000", n)
	}
	if _, ok := f.streams[name]; ok {
		return &sdktypes.ResourceInUseException{Message: aws.String(fmt.Sprintf("Stream %s under account %s already exists.", name, AccountID))}
	}
	s := &stream{name: name, arn: ARN(name), mode: mode, created: f.now()}
	space := new(big.Int).Add(maxHashKey, big.NewInt(1))
	width := new(big.Int).Div(space, big.NewInt(int64(n)))
	for i := 0; i < n; i++ {
		start := new(big.Int).Mul(width, big.NewInt(int64(i)))
		end := new(big.Int).Sub(new(big.Int).Add(start, width), big.NewInt(1))
		if i == n-1 {
			end = new(big.Int).Set(maxHashKey)
		}
		f.newShard(s, start, end).created = s.created
	}
	f.streams[name] = s
	return nil
}

// lookup finds the stream named by a request's StreamName and/or StreamARN.
func (f *Fake) lookup(name, arn *string) (*stream, error) {
	n, a := aws.ToString(name), aws.ToString(arn)
	if n == "" && a == "" {
		return nil, invalidArg("StreamName or StreamARN is required")
	}
	if a != "" {
		if !strings.HasPrefix(a, "arn:aws:kinesis:") || !strings.Contains(a, ":stream/") {
			return nil, invalidArg("invalid stream ARN %q", a)
		}
		an := nameFromARN(a)
		if n != "" && n != an {
			return nil, invalidArg("StreamName %q and StreamARN %q name different streams", n, a)
		}
		s := f.streams[an]
		if s == nil || s.arn != a {
			return nil, notFound(an)
		}
		return s, nil
	}
	s := f.streams[n]
	if s == nil {
		return nil, notFound(n)
	}
	return s, nil
}

func (s *stream) shard(id string) *shard {
	for _, sh := range s.shards {
		if sh.id == id {
			return sh
		}
	}
	return nil
}

// hashKey returns the 128-bit hash key of a record: its explicit hash key,
// else the MD5 of its partition key read as a big-endian integer.
func hashKey(partitionKey, explicit string) (*big.Int, error) {
	if explicit != "" {
		k, ok := new(big.Int).SetString(explicit, 10)
		if !ok || k.Sign() < 0 || k.Cmp(maxHashKey) > 0 {
			return nil, invalidArg("ExplicitHashKey %q must be a decimal integer in [0, 2^128-1]", explicit)
		}
		return k, nil
	}
	sum := md5.Sum([]byte(partitionKey))
	return new(big.Int).SetBytes(sum[:]), nil
}

// route returns the open shard whose hash range holds key.
func (s *stream) route(key *big.Int) *shard {
	for _, sh := range s.shards {
		if sh.open() && sh.start.Cmp(key) <= 0 && key.Cmp(sh.end) <= 0 {
			return sh
		}
	}
	return nil // unreachable: open shards always cover the key space
}

func (sh *shard) sdkShard() sdktypes.Shard {
	out := sdktypes.Shard{
		ShardId: aws.String(sh.id),
		HashKeyRange: &sdktypes.HashKeyRange{
			StartingHashKey: aws.String(sh.start.String()),
			EndingHashKey:   aws.String(sh.end.String()),
		},
		SequenceNumberRange: &sdktypes.SequenceNumberRange{StartingSequenceNumber: aws.String(sh.startSeq)},
	}
	if sh.endSeq != "" {
		out.SequenceNumberRange.EndingSequenceNumber = aws.String(sh.endSeq)
	}
	if sh.parent != "" {
		out.ParentShardId = aws.String(sh.parent)
	}
	if sh.adjacent != "" {
		out.AdjacentParentShardId = aws.String(sh.adjacent)
	}
	return out
}

// childShards describes the children of a closed shard as GetRecords
// reports them.
func (s *stream) childShards(sh *shard) []sdktypes.ChildShard {
	var out []sdktypes.ChildShard
	for _, id := range sh.children {
		c := s.shard(id)
		parents := []string{c.parent}
		if c.adjacent != "" {
			parents = append(parents, c.adjacent)
		}
		out = append(out, sdktypes.ChildShard{
			ShardId:      aws.String(c.id),
			ParentShards: parents,
			HashKeyRange: &sdktypes.HashKeyRange{
				StartingHashKey: aws.String(c.start.String()),
				EndingHashKey:   aws.String(c.end.String()),
			},
		})
	}
	return out
}
