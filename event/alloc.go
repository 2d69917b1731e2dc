package event

// Decoding allocates the event and the private copy of its input together
// when the input is small: the copy lives in an array next to the event in
// one allocation, and the event's strings point into it. Interior pointers
// keep the whole allocation alive for as long as the event or any of its
// strings is reachable.

type withBuf512[T any] struct {
	ev  T
	buf [512]byte
}

type withBuf1024[T any] struct {
	ev  T
	buf [1024]byte
}

type withBuf2048[T any] struct {
	ev  T
	buf [2048]byte
}

// withBuffer returns a new *T and an n-byte buffer, allocated together
// when n is at most 2 KiB.
func withBuffer[T any, PT interface {
	*T
	typed
}](n int) (typed, []byte) {
	switch {
	case n <= 512:
		a := new(withBuf512[T])
		return PT(&a.ev), a.buf[:n:n]
	case n <= 1024:
		a := new(withBuf1024[T])
		return PT(&a.ev), a.buf[:n:n]
	case n <= 2048:
		a := new(withBuf2048[T])
		return PT(&a.ev), a.buf[:n:n]
	}
	return PT(new(T)), make([]byte, n)
}
