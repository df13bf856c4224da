// Package wstest is a graphql-transport-ws client over a real websocket,
// for tests of GraphQL subscriptions: it answers the server's pings and
// keeps every other message, and how the socket closed, for the test to
// read.
package wstest

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

// Msg is one graphql-transport-ws message.
type Msg struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// String shows the message as it was sent.
func (m Msg) String() string {
	return m.Type + " " + m.ID + " " + string(m.Payload)
}

// Client is one websocket connection to a GraphQL server.
type Client struct {
	t    testing.TB
	Conn *websocket.Conn
	msgs chan Msg

	mu     sync.Mutex
	code   websocket.StatusCode
	reason string
	closed chan struct{}
}

// Dial opens a websocket to the GraphQL URL url (http:// or https://)
// with the graphql-transport-ws subprotocol and header (Origin, ...); it
// is closed when the test ends.
func Dial(t testing.TB, url string, header http.Header) (*Client, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http"), &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: header,
	})
	if err != nil {
		return nil, resp, err
	}
	c := &Client{t: t, Conn: conn, msgs: make(chan Msg, 100), closed: make(chan struct{})}
	go c.read()
	t.Cleanup(func() { _ = conn.CloseNow() })
	return c, resp, nil
}

func (c *Client) read() {
	defer close(c.closed)
	for {
		_, b, err := c.Conn.Read(context.Background())
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
		var m Msg
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		if m.Type == "ping" {
			c.Send(Msg{Type: "pong"})
			continue
		}
		c.msgs <- m
	}
}

func (c *Client) Send(m Msg) {
	b, _ := json.Marshal(m)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.Conn.Write(ctx, websocket.MessageText, b)
}

// Init sends connection_init with payload (nil: none).
func (c *Client) Init(payload map[string]any) {
	m := Msg{Type: "connection_init"}
	if payload != nil {
		m.Payload, _ = json.Marshal(payload)
	}
	c.Send(m)
}

// Connect sends connection_init with the token and waits for the ack.
func (c *Client) Connect(token string) *Client {
	c.t.Helper()
	c.Init(map[string]any{"Authorization": "Bearer " + token})
	if m := c.Next(5 * time.Second); m.Type != "connection_ack" {
		c.t.Fatalf("want connection_ack, got %+v", m)
	}
	return c
}

// Subscribe starts operation id. The protocol does not confirm a
// subscription, and the server starts each on a goroutine of its own: it
// waits a moment, so that changes the test makes next are heard.
func (c *Client) Subscribe(id, query string, vars map[string]any) {
	p, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	c.Send(Msg{Type: "subscribe", ID: id, Payload: p})
	time.Sleep(150 * time.Millisecond)
}

// Complete stops operation id.
func (c *Client) Complete(id string) { c.Send(Msg{Type: "complete", ID: id}) }

// Next returns the next message, failing the test if none comes in time.
func (c *Client) Next(timeout time.Duration) Msg {
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
		code, reason := c.Status()
		c.t.Fatalf("the socket closed (%d %q) while a message was expected", code, reason)
	case <-time.After(timeout):
		c.t.Fatalf("no message within %v", timeout)
	}
	return Msg{}
}

// Error is one GraphQL error of a payload.
type Error struct {
	Message    string `json:"message"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

// Event is the next message, which must be a next for id; it returns its
// payload's data and errors.
func (c *Client) Event(id string) (map[string]any, []Error) {
	c.t.Helper()
	m := c.Next(5 * time.Second)
	if m.Type != "next" || m.ID != id {
		c.t.Fatalf("want next for %s, got %s %s %s", id, m.Type, m.ID, m.Payload)
	}
	var p struct {
		Data   map[string]any `json:"data"`
		Errors []Error        `json:"errors"`
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		c.t.Fatal(err)
	}
	return p.Data, p.Errors
}

// Expect reads the next message and checks its type and id.
func (c *Client) Expect(typ, id string) Msg {
	c.t.Helper()
	m := c.Next(5 * time.Second)
	if m.Type != typ || m.ID != id {
		c.t.Fatalf("want %s for %q, got %s %q %s", typ, id, m.Type, m.ID, m.Payload)
	}
	return m
}

// Quiet returns the messages that arrive within window (none, for a
// subscriber that is to hear nothing).
func (c *Client) Quiet(window time.Duration) []Msg {
	var got []Msg
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

// Status is how the socket closed (-1 while open).
func (c *Client) Status() (websocket.StatusCode, string) {
	select {
	case <-c.closed:
	default:
		return -1, ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.code, c.reason
}

// WaitClose waits for the server to close the socket and returns its
// close code and reason.
func (c *Client) WaitClose(timeout time.Duration) (websocket.StatusCode, string) {
	c.t.Helper()
	select {
	case <-c.closed:
		return c.Status()
	case <-time.After(timeout):
		c.t.Fatalf("the socket is still open after %v", timeout)
	}
	return 0, ""
}
