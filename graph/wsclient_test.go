package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// wsMsg is one graphql-transport-ws message.
type wsMsg struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// wsClient is a graphql-transport-ws client over a real websocket: it
// answers the server's pings, and keeps every other message, and how the
// socket closed, for the test to read.
type wsClient struct {
	t    testing.TB
	conn *websocket.Conn
	msgs chan wsMsg

	mu     sync.Mutex
	code   websocket.StatusCode
	reason string
	closed chan struct{}
}

// dialWS opens a websocket to the GraphQL URL url (http:// or https://)
// with the graphql-transport-ws subprotocol and header (Origin, ...).
func dialWS(t testing.TB, url string, header http.Header) (*wsClient, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http"), &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: header,
	})
	if err != nil {
		return nil, resp, err
	}
	c := &wsClient{t: t, conn: conn, msgs: make(chan wsMsg, 100), closed: make(chan struct{})}
	go c.read()
	t.Cleanup(func() { _ = conn.CloseNow() })
	return c, resp, nil
}

func (c *wsClient) read() {
	defer close(c.closed)
	for {
		_, b, err := c.conn.Read(context.Background())
		if err != nil {
			c.mu.Lock()
			c.code = websocket.CloseStatus(err)
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				c.reason = ce.Reason
			}
			c.mu.Unlock()
			return
		}
		var m wsMsg
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		if m.Type == "ping" {
			c.send(wsMsg{Type: "pong"})
			continue
		}
		c.msgs <- m
	}
}

func (c *wsClient) send(m wsMsg) {
	b, _ := json.Marshal(m)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.conn.Write(ctx, websocket.MessageText, b)
}

// init sends connection_init with payload (nil: none).
func (c *wsClient) init(payload map[string]any) {
	m := wsMsg{Type: "connection_init"}
	if payload != nil {
		m.Payload, _ = json.Marshal(payload)
	}
	c.send(m)
}

// connect sends connection_init with the token and waits for the ack.
func (c *wsClient) connect(token string) *wsClient {
	c.t.Helper()
	c.init(map[string]any{"Authorization": "Bearer " + token})
	if m := c.next(5 * time.Second); m.Type != "connection_ack" {
		c.t.Fatalf("want connection_ack, got %+v", m)
	}
	return c
}

// subscribe starts operation id. The protocol does not confirm a
// subscription, and the server starts each on a goroutine of its own: it
// waits a moment, so that changes the test makes next are heard.
func (c *wsClient) subscribe(id, query string, vars map[string]any) {
	p, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	c.send(wsMsg{Type: "subscribe", ID: id, Payload: p})
	time.Sleep(150 * time.Millisecond)
}

// complete stops operation id.
func (c *wsClient) complete(id string) { c.send(wsMsg{Type: "complete", ID: id}) }

// next returns the next message, failing the test if none comes in time.
func (c *wsClient) next(timeout time.Duration) wsMsg {
	c.t.Helper()
	select {
	case m := <-c.msgs:
		return m
	case <-c.closed:
		select {
		case m := <-c.msgs:
			return m
		default:
		}
		code, reason := c.status()
		c.t.Fatalf("the socket closed (%d %q) while a message was expected", code, reason)
	case <-time.After(timeout):
		c.t.Fatalf("no message within %v", timeout)
	}
	return wsMsg{}
}

// event is the next message, which must be a next for id; it returns its
// payload's data and errors.
func (c *wsClient) event(id string) (map[string]any, []gqlError) {
	c.t.Helper()
	m := c.next(5 * time.Second)
	if m.Type != "next" || m.ID != id {
		c.t.Fatalf("want next for %s, got %s %s %s", id, m.Type, m.ID, m.Payload)
	}
	var p struct {
		Data   map[string]any `json:"data"`
		Errors []gqlError     `json:"errors"`
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		c.t.Fatal(err)
	}
	return p.Data, p.Errors
}

// expect reads the next message and checks its type and id.
func (c *wsClient) expect(typ, id string) wsMsg {
	c.t.Helper()
	m := c.next(5 * time.Second)
	if m.Type != typ || m.ID != id {
		c.t.Fatalf("want %s for %q, got %s %q %s", typ, id, m.Type, m.ID, m.Payload)
	}
	return m
}

// quiet counts the messages that arrive within window (it must be 0 for
// a subscriber that is to hear nothing).
func (c *wsClient) quiet(window time.Duration) []wsMsg {
	var got []wsMsg
	deadline := time.After(window)
	for {
		select {
		case m := <-c.msgs:
			got = append(got, m)
		case <-deadline:
			return got
		}
	}
}

// status is how the socket closed (-1 while open).
func (c *wsClient) status() (websocket.StatusCode, string) {
	select {
	case <-c.closed:
	default:
		return -1, ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.code, c.reason
}

// waitClose waits for the server to close the socket and returns its
// close code and reason.
func (c *wsClient) waitClose(timeout time.Duration) (websocket.StatusCode, string) {
	c.t.Helper()
	select {
	case <-c.closed:
		return c.status()
	case <-time.After(timeout):
		c.t.Fatalf("the socket is still open after %v", timeout)
	}
	return 0, ""
}
