package event

// Frame kinds.
const (
	KindEvent  = "event"  // Frame.Event is one event
	KindBatch  = "batch"  // Frame.Batch holds a coalesced window
	KindLagged = "lagged" // Frame.Missed frames were dropped or lost here
	KindReset  = "reset"  // the client must refetch state; Frame.Reason says why
)

// Frame is what a subscription receives.
//
// A lagged frame stands where frames went missing. Missed counts frames
// dropped from the queue, plus the events that left the ring before the
// subscription could read them: for those the filter is unknown, so Missed
// may count events the subscription would not have received.
type Frame struct {
	Kind   string  // "event", "batch", "lagged", "reset"
	Event  Event   // Kind event
	Batch  []Event // Kind batch: coalesced high-frequency events of one (type, topic) window, in order; never empty
	Missed int     // Kind lagged: how many frames were dropped
	Reason string  // Kind reset: why the client must refetch state
}

// frameQueue is a growable FIFO of frames, owned by one delivery goroutine.
type frameQueue struct {
	buf  []Frame
	head int
	n    int
}

func (q *frameQueue) len() int { return q.n }

// front returns the oldest frame; the queue must not be empty.
func (q *frameQueue) front() Frame { return q.buf[q.head] }

// push appends f.
func (q *frameQueue) push(f Frame) {
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)%len(q.buf)] = f
	q.n++
}

// pop removes the oldest frame; the queue must not be empty.
func (q *frameQueue) pop() {
	q.buf[q.head] = Frame{}
	q.head = (q.head + 1) % len(q.buf)
	q.n--
}

// clear empties the queue and lets go of its frames.
func (q *frameQueue) clear() {
	clear(q.buf)
	q.head, q.n = 0, 0
}

func (q *frameQueue) grow() {
	buf := make([]Frame, max(8, 2*len(q.buf)))
	for i := range q.n {
		buf[i] = q.buf[(q.head+i)%len(q.buf)]
	}
	q.buf, q.head = buf, 0
}
