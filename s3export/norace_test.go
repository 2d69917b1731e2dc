//go:build !race

package s3export

// crashEvents is the crash test's stream without the race detector.
const crashEvents = 30000
