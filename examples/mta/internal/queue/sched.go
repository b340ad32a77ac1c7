package queue

import "slices"

// Deliveries run concurrently, within two limits: MaxDeliveries at
// once in all (Postfix's default_process_limit, 100), and
// MaxPerDestination to any one destination (Postfix's
// default_destination_concurrency_limit, 20). The unit of work is one
// destination of one message (a unit): the message's pending recipients
// for that destination, one Courier.Deliver call. A message with
// recipients at three domains is three units, which run side by side
// and wait for their own destination only, so a slow or dead host holds
// up the units for it and no others; and it holds at most
// MaxPerDestination of the MaxDeliveries slots.
//
// A unit that cannot start waits in its destination's queue (FIFO).
// When a slot frees, a destination that has units waiting and none
// running goes first (so that none starves behind busy ones), then the
// destination of the unit that just ended (its connection may be kept
// for the next message: Delivery.Waiting), then the others in turn.
//
// The scheduler's state is under Runner.mu.

// unit is one destination of one message in flight.
type unit struct {
	job     *job
	dest    string
	rcpts   []*Recipient
	started bool
	done    bool
}

type scheduler struct {
	running int
	perDest map[string]int
	waiting map[string][]*unit
	ring    []string // destinations with units waiting, in turn
}

// submit starts u or queues it. r.mu is held.
func (r *Runner) submit(u *unit) {
	s := &r.sched
	if s.perDest == nil {
		s.perDest, s.waiting = map[string]int{}, map[string][]*unit{}
	}
	if s.running < r.maxDeliveries() && s.perDest[u.dest] < r.maxPerDestination() {
		r.startUnit(u)
		return
	}
	if len(s.waiting[u.dest]) == 0 {
		s.ring = append(s.ring, u.dest)
	}
	s.waiting[u.dest] = append(s.waiting[u.dest], u)
}

// startUnit runs u in a goroutine of its own. r.mu is held.
func (r *Runner) startUnit(u *unit) {
	s := &r.sched
	u.started = true
	s.running++
	s.perDest[u.dest]++
	r.wg.Add(1)
	go r.runUnit(u)
}

// unitEnded gives back u's slot and starts what can start now. r.mu is
// held.
func (r *Runner) unitEnded(u *unit) {
	s := &r.sched
	s.running--
	if s.perDest[u.dest]--; s.perDest[u.dest] <= 0 {
		delete(s.perDest, u.dest)
	}
	for s.running < r.maxDeliveries() {
		next := r.pick(u.dest)
		if next == nil {
			return
		}
		r.startUnit(next)
	}
}

// pick takes the next unit to start (nil: none can), preferring
// starved destinations, then prefer, then the ring's order.
func (r *Runner) pick(prefer string) *unit {
	s := &r.sched
	limit := r.maxPerDestination()
	choose := -1
	for i, d := range s.ring {
		if s.perDest[d] == 0 {
			choose = i
			break
		}
	}
	if choose < 0 && len(s.waiting[prefer]) > 0 && s.perDest[prefer] < limit {
		choose = slices.Index(s.ring, prefer)
	}
	if choose < 0 {
		for i, d := range s.ring {
			if s.perDest[d] < limit {
				choose = i
				break
			}
		}
	}
	if choose < 0 {
		return nil
	}
	d := s.ring[choose]
	q := s.waiting[d]
	u := q[0]
	q[0] = nil
	if q = q[1:]; len(q) == 0 {
		delete(s.waiting, d)
		s.ring = slices.Delete(s.ring, choose, choose+1)
	} else {
		s.waiting[d] = q
		// Its turn is over: to the back of the ring.
		s.ring = append(slices.Delete(s.ring, choose, choose+1), d)
	}
	return u
}

// dropWaiting takes the units of j that have not started out of the
// queues and returns how many. r.mu is held.
func (r *Runner) dropWaiting(j *job) int {
	s := &r.sched
	n := 0
	for _, u := range j.units {
		if u.started || u.done {
			continue
		}
		u.done = true
		n++
		q := slices.DeleteFunc(s.waiting[u.dest], func(w *unit) bool { return w == u })
		if len(q) == 0 {
			delete(s.waiting, u.dest)
			if i := slices.Index(s.ring, u.dest); i >= 0 {
				s.ring = slices.Delete(s.ring, i, i+1)
			}
		} else {
			s.waiting[u.dest] = q
		}
	}
	return n
}

// waitingFor reports whether units for dest wait for a slot.
func (r *Runner) waitingFor(dest string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sched.waiting[dest]) > 0
}
