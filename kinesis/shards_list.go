package kinesis

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// maxListShardsPages bounds the NextToken pages one listing follows. A page
// holds up to 1,000 shards and a stream at most a few thousand (open and
// closed within retention), so only a service that keeps returning a token
// reaches it.
const maxListShardsPages = 10000

// listShards returns every shard of the stream, given by name or ARN (the
// other nil), following NextToken for at most maxListShardsPages pages.
// The errors carry no "kinesis:" prefix: callers add their context.
func listShards(ctx context.Context, client ListShardsAPI, streamName, streamARN *string) ([]sdktypes.Shard, error) {
	var all []sdktypes.Shard
	in := &sdkkinesis.ListShardsInput{StreamName: streamName, StreamARN: streamARN}
	for range maxListShardsPages {
		out, err := client.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list shards: %w", err)
		}
		all = append(all, out.Shards...)
		if aws.ToString(out.NextToken) == "" {
			return all, nil
		}
		// With NextToken, the stream must not be named again.
		in = &sdkkinesis.ListShardsInput{NextToken: out.NextToken}
	}
	return nil, fmt.Errorf("list shards: more than %d pages", maxListShardsPages)
}
