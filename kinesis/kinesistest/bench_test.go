package kinesistest_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkkinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/rtdskit/rtds/kinesis/kinesistest"
)

// BenchmarkPutRecords measures the fake's cost per PutRecords call of 500
// records of 300 bytes, so tests can budget for it.
func BenchmarkPutRecords(b *testing.B) {
	for _, shards := range []int{1, 16} {
		b.Run(fmt.Sprintf("shards=%d", shards), func(b *testing.B) {
			f := kinesistest.New(kinesistest.WithStream("s", shards))
			in := &sdkkinesis.PutRecordsInput{StreamName: aws.String("s")}
			data := make([]byte, 300)
			for i := range 500 {
				in.Records = append(in.Records, sdktypes.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint("key-", i)), Data: data})
			}
			b.SetBytes(500 * 300)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.PutRecords(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
