package audit

import "context"

// Committer is the group committer, for TestCommitter.
type Committer = committer

// NewCommitter returns a committer that writes with write, at most
// maxWriters statements at once and maxRows rows to a statement.
func NewCommitter(maxWriters, maxRows int, write func(rows [][]byte) error) *Committer {
	return newCommitter(maxWriters, maxRows, write)
}

// Submit is submit.
func (c *committer) Submit(ctx context.Context, rows ...[]byte) error { return c.submit(ctx, rows...) }

// Depth is depth.
func (c *committer) Depth() int { return c.depth() }
