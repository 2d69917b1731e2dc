package main

import "sync"

// seenIDs remembers the last capacity IDs added, forgetting the oldest
// first. It is the Handler's memory of mailed events: small, local and
// safe for concurrent use, so this example builds on its own when copied.
type seenIDs struct {
	mu   sync.Mutex
	ids  map[string]struct{}
	ring []string // insertion order; next is the oldest once full
	next int
}

func newSeenIDs(capacity int) *seenIDs {
	return &seenIDs{ids: make(map[string]struct{}, capacity), ring: make([]string, 0, capacity)}
}

// Contains reports whether id was added and not yet forgotten.
func (s *seenIDs) Contains(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.ids[id]
	return ok
}

// Add remembers id, forgetting the oldest ID when full.
func (s *seenIDs) Add(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ids[id]; ok {
		return
	}
	if len(s.ring) < cap(s.ring) {
		s.ring = append(s.ring, id)
	} else {
		delete(s.ids, s.ring[s.next])
		s.ring[s.next] = id
		s.next = (s.next + 1) % len(s.ring)
	}
	s.ids[id] = struct{}{}
}
