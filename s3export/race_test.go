//go:build race

package s3export

// crashEvents is the crash test's stream under the race detector, whose
// children run several times slower.
const crashEvents = 10000
