package event

import (
	"math/rand/v2"
	"sync"
	"time"
)

// crockford is Crockford's base32 alphabet: no I, L, O or U.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// processIDs issues the ids of NewID.
var processIDs idGenerator

// NewID returns a ULID-like id for an event created at now: 48 bits of unix
// milliseconds and 80 random bits, 26 characters of Crockford base32. Ids
// sort as strings in creation order; within one process they strictly
// increase, even within one millisecond or when the clock steps back (the
// random part is then incremented). The random bits keep ids from different
// instances apart.
//
// A Bus issues the ids of its events with a generator of its own, so that a
// bus running on an injected clock does not move the process's ids.
func NewID(now time.Time) string { return processIDs.next(now) }

// idGenerator issues strictly increasing ids. It remembers the last id:
// 48 bits of unix milliseconds and 80 bits of randomness, of which hi holds
// the top 16.
type idGenerator struct {
	mu sync.Mutex
	ms uint64
	hi uint16
	lo uint64
}

// next returns the id following the last one for an event created at now.
func (g *idGenerator) next(now time.Time) string {
	ms := uint64(now.UnixMilli()) & (1<<48 - 1)
	g.mu.Lock()
	if ms > g.ms {
		g.ms, g.hi, g.lo = ms, uint16(rand.Uint32()), rand.Uint64()
	} else {
		g.increment()
	}
	hi, lo := g.ms<<16|uint64(g.hi), g.lo
	g.mu.Unlock()
	return encodeID(hi, lo)
}

// increment adds one to the last id, carrying into the milliseconds when
// the 80 random bits overflow. The caller holds g.mu.
func (g *idGenerator) increment() {
	g.lo++
	if g.lo != 0 {
		return
	}
	g.hi++
	if g.hi == 0 {
		g.ms++
	}
}

// encodeID writes the 128-bit value hi:lo as 26 base32 characters, the
// first of which carries only 3 bits.
func encodeID(hi, lo uint64) string {
	var b [26]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(b[:])
}
