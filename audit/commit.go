package audit

import (
	"context"
	"sync"
)

// committer writes queued rows by group commit. On PostgreSQL each commit
// waits for its WAL flush, and on SQLite each one takes the single write
// lock: one INSERT and commit per request would make concurrent requests
// wait on each other's commits. So requests hand their rows to a queue; a
// writer takes everything queued (up to maxRows rows) and writes it as one
// statement, which commits on its own, then tells each request how it went.
// Alone, a request writes its own rows at once (it is the writer: no
// hand-off, no added latency); under load, the requests that arrive while
// statements are committing share the next one. A request returns only
// after the statement carrying its rows has committed.
type committer struct {
	// write writes rows in one statement (and commits).
	write      func(rows [][]byte) error
	maxWriters int
	maxRows    int

	mu      sync.Mutex
	pending []*commitReq
	writers int // statements at work; each takes pending when done
}

// commitReq is one request's rows waiting for a statement.
type commitReq struct {
	rows [][]byte
	done chan error // receives the outcome once, buffered
}

func newCommitter(maxWriters, maxRows int, write func(rows [][]byte) error) *committer {
	return &committer{write: write, maxWriters: maxWriters, maxRows: maxRows}
}

// submit writes rows by group commit and returns once they are committed
// (or failed). If ctx ends first it returns ctx's error: the rows may
// still be written, but the caller answers with an error.
func (c *committer) submit(ctx context.Context, rows ...[]byte) error {
	if len(rows) == 0 {
		return nil
	}
	req := &commitReq{rows: rows, done: make(chan error, 1)}
	c.mu.Lock()
	c.pending = append(c.pending, req)
	lead := c.writers < c.maxWriters
	var batch []*commitReq
	if lead {
		// A writer is free: this request writes, taking what is queued
		// (itself, and whatever came in meanwhile) in the same critical
		// section, so it never waits for anyone else's statement.
		c.writers++
		batch = c.takeLocked()
	}
	c.mu.Unlock()
	if lead {
		c.run(batch)
		c.handOff()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// takeLocked removes the next batch from the queue: at least one request,
// then as many as fit in maxRows rows. c.mu must be held.
func (c *committer) takeLocked() []*commitReq {
	n, rows := 0, 0
	for n < len(c.pending) && (n == 0 || rows+len(c.pending[n].rows) <= c.maxRows) {
		rows += len(c.pending[n].rows)
		n++
	}
	batch := c.pending[:n:n]
	c.pending = c.pending[n:]
	if len(c.pending) == 0 {
		c.pending = nil
	}
	return batch
}

// handOff, called by a writer after its statement, leaves the writer's
// role if nothing is queued, or passes the queue to a goroutine that
// writes it: the request that wrote returns at once instead of writing
// for others.
func (c *committer) handOff() {
	c.mu.Lock()
	if len(c.pending) == 0 {
		c.writers--
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	go c.drain()
}

// drain writes queued batches until the queue is empty.
func (c *committer) drain() {
	for {
		c.mu.Lock()
		if len(c.pending) == 0 {
			c.writers--
			c.mu.Unlock()
			return
		}
		batch := c.takeLocked()
		c.mu.Unlock()
		c.run(batch)
	}
}

// run writes the rows of batch in one statement and reports the outcome to
// each request. If a shared statement fails, each request's rows are tried
// alone, so that one request's bad row (or a passing failure) does not
// fail the others.
func (c *committer) run(batch []*commitReq) {
	var rows [][]byte
	for _, r := range batch {
		rows = append(rows, r.rows...)
	}
	err := c.write(rows)
	if err != nil && len(batch) > 1 {
		for _, r := range batch {
			r.done <- c.write(r.rows)
		}
		return
	}
	for _, r := range batch {
		r.done <- err
	}
}

// depth returns how many requests wait for a statement (for metrics).
func (c *committer) depth() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}
