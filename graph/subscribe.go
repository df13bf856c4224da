package graph

import (
	"context"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"healthcare/database"
	"healthcare/graph/model"
	"healthcare/models"
)

// A subscription hears every Change this node learns of (its own writes at
// once, the other nodes' through LISTEN/NOTIFY on PostgreSQL) and decides
// from the Change alone, before reading anything, whether it is one the
// subscriber may see: a record's owner is in the Change. Only then is the
// record read, as the subscriber, through the same stores a query uses
// (when the event is sent: see wsEvents).

// watcher picks the events of one subscription.
type watcher[T any] struct {
	// match says whether a change concerns the subscription at all (its
	// kind and ids), before the subscriber is checked again.
	match func(database.Change) bool
	// event makes the event of a matching change the subscriber may see,
	// and says whether it is the subscription's last.
	event func(database.Change, models.Viewer) (ev *T, last bool)
}

// visible reports whether v may see the record a change is about: its
// owner's, or a superuser's.
func visible(c database.Change, v models.Viewer) bool {
	return v.Superuser || c.Owner != 0 && c.Owner == v.UserID
}

// changeOp is the GraphQL spelling of a Change's operation.
func changeOp(op string) (model.ChangeOp, bool) {
	switch op {
	case database.OpCreate:
		return model.ChangeOpCreate, true
	case database.OpUpdate:
		return model.ChangeOpUpdate, true
	case database.OpDelete:
		return model.ChangeOpDelete, true
	}
	return "", false
}

// subscribe starts a subscription on the websocket connection of ctx: it
// takes one of the connection's subscription slots and sends the events w
// picks until the client completes it, the connection closes, or w says an
// event is the last. Before each event the connection's token is checked
// again (a revoked session closes the connection), and the event is made
// for the subscriber as that check found it. A subscription that cannot
// keep up (more than wsQueue changes waiting), or that may have missed
// changes (this node lost its LISTEN connection), ends with an error
// saying to subscribe again and refetch.
func subscribe[T any](ctx context.Context, r *Resolver, w watcher[T]) (<-chan *T, error) {
	c := connFrom(ctx)
	if c == nil {
		return nil, models.Unauthenticated("Subscriptions run over a websocket at this URL (graphql-transport-ws).")
	}
	n := r.Store.Notifier()
	if !n.Connected() {
		// On PostgreSQL before (or while not) hearing the other nodes.
		return nil, models.Unavailable(nil)
	}
	if err := c.acquire(); err != nil {
		return nil, err
	}
	queue := make(chan database.Change, wsQueue)
	trouble := make(chan string, 1)
	var failed atomic.Bool
	fail := func(msg string) {
		if failed.CompareAndSwap(false, true) {
			trouble <- msg
		}
	}
	stop := n.Subscribe(func(ch database.Change) {
		if !w.match(ch) {
			return
		}
		select {
		case queue <- ch:
		default:
			fail("Changes arrived faster than this subscription sent them, and some were dropped. Subscribe again, and refetch what you show.")
		}
	}, func() {
		fail("This server lost touch with the other servers' changes for a moment, and some may have been missed. Subscribe again, and refetch what you show.")
	})
	out := make(chan *T)
	go func() {
		defer c.release()
		defer close(out)
		defer stop()
		for {
			select {
			case <-ctx.Done():
				return
			case msg := <-trouble:
				transport.AddSubscriptionError(ctx, presentError(r.Log)(ctx, &models.Error{Code: models.CodeUnavailable, Message: msg}))
				return
			case ch := <-queue:
				tc, err := c.verify(ctx, false)
				if err != nil {
					return // verify closed the connection
				}
				ev, last := w.event(ch, tc.Viewer)
				if ev != nil {
					select {
					case out <- ev:
					case <-ctx.Done():
						return
					}
				}
				if last {
					return
				}
			}
		}
	}()
	return out, nil
}

// subscriber is the viewer of a subscription as it starts: the websocket
// connection's token, checked again.
func subscriber(ctx context.Context) (models.Viewer, error) {
	c := connFrom(ctx)
	if c == nil {
		return models.Viewer{}, models.Unauthenticated("Subscriptions run over a websocket at this URL (graphql-transport-ws).")
	}
	tc, err := c.verify(ctx, false)
	if err != nil {
		return models.Viewer{}, err
	}
	return tc.Viewer, nil
}
