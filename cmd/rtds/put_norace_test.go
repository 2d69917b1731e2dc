//go:build !race

package main

// putEvents is the number of events TestPut100k sends: the issue's
// acceptance case (see put_race_test.go for -race runs).
const putEvents = 100000
