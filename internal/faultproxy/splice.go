package faultproxy

import (
	"encoding/json"
	"net/http"
)

// putRecords fails a fraction of a PutRecords call's entries: it forwards
// only the others and splices the failures back at their original indexes
// with a corrected FailedRecordCount.
func (p *Proxy) putRecords(w http.ResponseWriter, r *http.Request, body []byte, cfg *Config, dropAfter bool) {
	var req map[string]json.RawMessage
	var entries []json.RawMessage
	if json.Unmarshal(body, &req) != nil || json.Unmarshal(req["Records"], &entries) != nil || len(entries) == 0 {
		p.forward(w, r, body, dropAfter) // let the emulator report the bad request
		return
	}
	failed := p.pick(len(entries), cfg.FailEntries)
	if cfg.EntryFilter != nil {
		for i, e := range entries {
			var k struct{ PartitionKey, ExplicitHashKey string }
			if failed[i] && (json.Unmarshal(e, &k) != nil || !cfg.EntryFilter(k.PartitionKey, k.ExplicitHashKey)) {
				failed[i] = false
			}
		}
	}
	keep := make([]json.RawMessage, 0, len(entries))
	for i, e := range entries {
		if !failed[i] {
			keep = append(keep, e)
		}
	}
	nFailed := len(entries) - len(keep)
	if nFailed == 0 {
		p.forward(w, r, body, dropAfter)
		return
	}
	code := cfg.EntryErrorCode
	if code == "" {
		code = CodeThrottled
	}
	msg := "Rate exceeded for shard in stream under account 000000000000 (injected by faultproxy)."
	if code == CodeInternalFailure {
		msg = "Internal service failure (injected by faultproxy)."
	}
	injected, _ := json.Marshal(map[string]string{"ErrorCode": code, "ErrorMessage": msg})

	var out map[string]json.RawMessage
	var results []json.RawMessage
	upstreamFailed := 0
	if len(keep) == 0 {
		out = map[string]json.RawMessage{}
	} else {
		req["Records"], _ = json.Marshal(keep)
		fwd, _ := json.Marshal(req)
		resp, err := p.roundTrip(r, fwd)
		if err != nil {
			hangUp(w)
			return
		}
		if resp.status != http.StatusOK {
			p.reply(w, "PutRecords", resp, dropAfter) // the whole call failed: relay it
			return
		}
		if json.Unmarshal(resp.body, &out) != nil || json.Unmarshal(out["Records"], &results) != nil ||
			json.Unmarshal(out["FailedRecordCount"], &upstreamFailed) != nil || len(results) != len(keep) {
			writeError(w, http.StatusInternalServerError, CodeInternalFailure, "faultproxy: cannot splice the emulator's PutRecords answer")
			return
		}
	}
	merged := make([]json.RawMessage, len(entries))
	k := 0
	for i := range entries {
		if failed[i] {
			merged[i] = injected
			continue
		}
		merged[i] = results[k]
		k++
	}
	out["Records"], _ = json.Marshal(merged)
	out["FailedRecordCount"], _ = json.Marshal(upstreamFailed + nFailed)
	b, _ := json.Marshal(out)
	p.count(func(s *Stats) { s.FailedEntries += int64(nFailed) })
	p.reply(w, "PutRecords", &response{
		status: http.StatusOK,
		header: http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amzn-Requestid": {"faultproxy"}},
		body:   b,
	}, dropAfter)
}

// storedEntries returns how many entries a PutRecords answer acknowledges.
func storedEntries(body []byte) int {
	var out struct {
		FailedRecordCount int
		Records           []json.RawMessage
	}
	if json.Unmarshal(body, &out) != nil {
		return 0
	}
	return len(out.Records) - out.FailedRecordCount
}
