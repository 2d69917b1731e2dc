package event

// Decoding allocates the event and the private copy of its input together
// when the input is small: the copy lives in an array next to the event in
// one allocation, and the event's strings point into it. Interior pointers
// keep the whole allocation alive for as long as the event or any of its
// strings is reachable. The array sizes step finely so that little of the
// allocation is wasted.

type withBuf256[T any] struct {
	ev  T
	buf [256]byte
}

type withBuf384[T any] struct {
	ev  T
	buf [384]byte
}

type withBuf512[T any] struct {
	ev  T
	buf [512]byte
}

type withBuf640[T any] struct {
	ev  T
	buf [640]byte
}

type withBuf768[T any] struct {
	ev  T
	buf [768]byte
}

type withBuf896[T any] struct {
	ev  T
	buf [896]byte
}

type withBuf1024[T any] struct {
	ev  T
	buf [1024]byte
}

type withBuf1280[T any] struct {
	ev  T
	buf [1280]byte
}

type withBuf1536[T any] struct {
	ev  T
	buf [1536]byte
}

type withBuf1792[T any] struct {
	ev  T
	buf [1792]byte
}

type withBuf2048[T any] struct {
	ev  T
	buf [2048]byte
}

type withBuf2560[T any] struct {
	ev  T
	buf [2560]byte
}

type withBuf3072[T any] struct {
	ev  T
	buf [3072]byte
}

type withBuf4096[T any] struct {
	ev  T
	buf [4096]byte
}

// withBuffer returns a new *T and an n-byte buffer, allocated together
// when n is at most 4096 bytes.
func withBuffer[T any, PT interface {
	*T
	typed
}](n int) (typed, []byte) {
	switch {
	case n <= 256:
		a := new(withBuf256[T])
		return PT(&a.ev), a.buf[:n:n]
	case n <= 384:
		a := new(withBuf384[T])
		return PT(&a.ev), a.buf[:n:n]
	case n <= 512:
		a := new(withBuf512[T])
		return PT(&a.ev), a.buf[:n:n]
	case n <= 640:
		a := new(withBuf640[T])
		return PT(&a.ev), a.buf[:n:n]
	case n <= 768:
		a := new(withBuf768[T])
		return PT(&a.ev), a.buf[:n:n]
	case n <= 896:
		a := new(withBuf896[T])
		return PT(&a.ev), a.buf[:n:n]
	case n <= 1024:
		a := new(withBuf1024[T])
		return PT(&a.ev), a.buf[:n:n]
	case n <= 1280:
		a := new(withBuf1280[T])
		return PT(&a.ev), a.buf[:n:n]
	case n <= 1536:
		a := new(withBuf1536[T])
		return PT(&a.ev), a.buf[:n:n]
	case n <= 1792:
		a := new(withBuf1792[T])
		return PT(&a.ev), a.buf[:n:n]
	case n <= 2048:
		a := new(withBuf2048[T])
		return PT(&a.ev), a.buf[:n:n]
	case n <= 2560:
		a := new(withBuf2560[T])
		return PT(&a.ev), a.buf[:n:n]
	case n <= 3072:
		a := new(withBuf3072[T])
		return PT(&a.ev), a.buf[:n:n]
	case n <= 4096:
		a := new(withBuf4096[T])
		return PT(&a.ev), a.buf[:n:n]
	}
	return PT(new(T)), make([]byte, n)
}
