package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"healthcare/database"
)

// Observer hears what the trail does, for metrics. Its methods are called
// on the trail's own goroutines and must return quickly.
type Observer interface {
	// Committed is told of each group INSERT of read events: how many
	// rows it carried, how long it took to commit, and its outcome.
	Committed(rows int, took time.Duration, err error)
	// Sealed is told of each sealing run: how many events it chained,
	// how long it took, and its outcome.
	Sealed(events int, took time.Duration, err error)
}

// SetObserver makes o hear the trail's commits and seals. Call it before
// the trail is used.
func (t *Trail) SetObserver(o Observer) { t.obs = o }

// QueueDepth returns how many requests wait for a group INSERT of their
// read events.
func (t *Trail) QueueDepth() int { return t.commits.depth() }

// SealerLag returns how long the oldest event that is not on the chain yet
// has waited for the sealer (0 when every event is sealed): the sealers of
// all nodes together, since it reads the database.
func (t *Trail) SealerLag(ctx context.Context) (time.Duration, error) {
	head, err := chainHead(ctx, t.db)
	if err != nil {
		return 0, fmt.Errorf("audit chain head: %w", database.Translate(err))
	}
	var oldest time.Time
	err = t.db.NewSelect().Model((*auditRow)(nil)).Column("ae.occurred_at").
		Where("ae.id > ?", head.EventID).OrderExpr("ae.id").Limit(1).Scan(ctx, &oldest)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("oldest unsealed audit event: %w", database.Translate(err))
	}
	return max(0, time.Since(oldest)), nil
}

func (t *Trail) committed(rows int, start time.Time, err error) {
	if t.obs != nil {
		t.obs.Committed(rows, time.Since(start), err)
	}
}

func (t *Trail) sealed(n int, start time.Time, err error) {
	if t.obs != nil {
		t.obs.Sealed(n, time.Since(start), err)
	}
}
