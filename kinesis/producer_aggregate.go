package kinesis

import (
	"crypto/md5"

	"google.golang.org/protobuf/encoding/protowire"
)

// kplMagic starts every KPL aggregated record.
var kplMagic = []byte{0xF3, 0x89, 0x9A, 0xC2}

// encodeAggregate appends u's records to dst in the KPL aggregated format:
// the magic bytes, the AggregatedRecord protobuf (partition key table,
// records) and the MD5 of the protobuf. A key repeated by consecutive
// records is stored once. The user records carry no explicit hash key: the
// Kinesis record's own explicit hash key routes the aggregate to the shard
// its records' keys hash to.
func (p *Producer) encodeAggregate(dst []byte, u *unit) []byte {
	dst = append(dst, kplMagic...)
	start := len(dst)
	prev := ""
	for i := range u.recs {
		pk := u.recs[i].pk
		if i > 0 && pk == prev {
			continue
		}
		dst = protowire.AppendTag(dst, 1, protowire.BytesType)
		dst = protowire.AppendString(dst, pk)
		prev = pk
	}
	idx := uint64(0)
	for i := range u.recs {
		r := &u.recs[i]
		if i > 0 && r.pk != u.recs[i-1].pk {
			idx++
		}
		n := 1 + protowire.SizeVarint(idx) + 1 + protowire.SizeBytes(len(r.data))
		dst = protowire.AppendTag(dst, 3, protowire.BytesType)
		dst = protowire.AppendVarint(dst, uint64(n))
		dst = protowire.AppendTag(dst, 1, protowire.VarintType)
		dst = protowire.AppendVarint(dst, idx)
		dst = protowire.AppendTag(dst, 3, protowire.BytesType)
		dst = protowire.AppendBytes(dst, r.data)
	}
	sum := md5.Sum(dst[start:])
	return append(dst, sum[:]...)
}
