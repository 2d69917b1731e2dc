//go:build race

package main

// putEvents is the number of events TestPut100k sends. The race detector
// makes decoding and the SDK several times slower, so under -race (make
// test) the test sends 30,000; without it, the full 100,000.
const putEvents = 30000
