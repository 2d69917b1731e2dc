// kpl.js runs the npm aws-kinesis-agg package for the batch cross-checks.
//
// Usage: node kpl.js NODE_MODULES_DIR < request.json > response.json
//
// request:  {"aggregate": [[{"pk","ehk","data"}...]...],
//            "deaggregate": [{"seq","pk","data"}...]}   (data in base64)
// response: {"aggregated": [{"pk","ehk","data"}...],
//            "deaggregated": [{"records": [{"pk","ehk","sub","data"}...], "error": "..."}...]}
"use strict";
const path = require("path");
const agg = require(path.join(process.argv[2], "aws-kinesis-agg"));

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (c) => { input += c; });
process.stdin.on("end", () => {
	const req = JSON.parse(input);
	const out = { aggregated: [], deaggregated: [] };
	for (const recs of req.aggregate || []) {
		const a = new agg.RecordAggregator();
		for (const r of recs) {
			const rec = { partitionKey: r.pk, data: Buffer.from(r.data, "base64") };
			if (r.ehk) {
				rec.explicitHashKey = r.ehk;
			}
			a.addUserRecord(rec);
		}
		const e = a.build();
		out.aggregated.push({ pk: e.partitionKey, ehk: e.ExplicitHashKey || "", data: e.data.toString("base64") });
	}
	for (const k of req.deaggregate || []) {
		const res = { records: [], error: "" };
		agg.deaggregateSync({ partitionKey: k.pk, sequenceNumber: k.seq, data: k.data }, true, (err, urs) => {
			if (err) {
				res.error = String(err && err.message || err);
				return;
			}
			for (const u of urs || []) {
				res.records.push({ pk: u.partitionKey, ehk: u.explicitPartitionKey || "", sub: u.subSequenceNumber, data: u.data });
			}
		});
		out.deaggregated.push(res);
	}
	process.stdout.write(JSON.stringify(out));
});
