package graph

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"healthcare/audit"
	"healthcare/auth"
	"healthcare/database"
	"healthcare/models"
)

// Subscriptions configures GraphQL subscriptions: a websocket at the
// GraphQL URL speaking graphql-transport-ws (the protocol of the
// graphql-ws client), authenticated in connection_init.
type Subscriptions struct {
	// MaxConnections is the most websocket connections one account may
	// hold open on one server node; a connection_init past it is refused
	// with close code 4429.
	MaxConnections int
	// MaxSubscriptions is the most subscriptions running at once on one
	// connection; one more is answered RATE_LIMITED.
	MaxSubscriptions int
	// IdleTimeout closes a connection (code 1000) that has had no running
	// subscription for this long.
	IdleTimeout time.Duration
	// AllowedOrigins are the browser origins (scheme://host[:port]) that may
	// open a websocket besides the server's own (CORS_ALLOWED_ORIGINS). A
	// request without an Origin header is not a browser's and may connect.
	AllowedOrigins []string
	// Done, when closed, closes every websocket connection with 1001 (the
	// server is going away); nil never does.
	Done <-chan struct{}
}

// DefaultSubscriptions are the limits of zero-valued Subscriptions fields.
var DefaultSubscriptions = Subscriptions{MaxConnections: 10, MaxSubscriptions: 20, IdleTimeout: 5 * time.Minute}

// The websocket protocol and its fixed timings.
const (
	wsProtocol = "graphql-transport-ws"
	// wsInitTimeout is how long a client has to send connection_init.
	wsInitTimeout = 10 * time.Second
	// wsPingInterval is how often the server pings; a client that has not
	// answered a ping for two intervals is disconnected.
	wsPingInterval = 25 * time.Second
	// wsReadLimit bounds one message from the client (a subscribe message
	// carries one operation; the parser's token limit bounds it anyway).
	wsReadLimit = 256 << 10
	// wsQueue is how many changes one subscription may have waiting; past
	// it the subscription ends with an error rather than drop changes
	// silently.
	wsQueue = 256
)

// Close codes of graphql-transport-ws and RFC 6455 this server sends.
const (
	closeNormal       = 1000 // idle timeout
	closeGoingAway    = 1001 // server shutdown
	closeTryLater     = 1013 // the database could not be reached to check the token
	closeBadRequest   = 4400 // a malformed or unexpected message
	closeUnauthorized = 4401 // the session ended or the account was deactivated; subscribe before connection_init
	closeForbidden    = 4403 // connection_init refused (no, bad or expired token); the token expired while connected
	closeInitTimeout  = 4408 // no connection_init in time
	closeTooMany      = 4429 // too many connections for the account
)

// wsServer accepts websocket connections for the executor and keeps the
// per-account connection counts of this node.
type wsServer struct {
	opts  Subscriptions
	exec  *executor.Executor
	auth  *auth.Service
	store *database.Store
	log   *slog.Logger

	mu       sync.Mutex
	accounts map[int64]int
}

func newWSServer(o Options, exec *executor.Executor) *wsServer {
	s := o.Subscriptions
	d := DefaultSubscriptions
	if s.MaxConnections <= 0 {
		s.MaxConnections = d.MaxConnections
	}
	if s.MaxSubscriptions <= 0 {
		s.MaxSubscriptions = d.MaxSubscriptions
	}
	if s.IdleTimeout <= 0 {
		s.IdleTimeout = d.IdleTimeout
	}
	return &wsServer{opts: s, exec: exec, auth: o.Auth, store: o.Store, log: o.Log, accounts: map[int64]int{}}
}

// isWebsocket reports whether r asks to become a websocket.
func isWebsocket(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket") &&
		headerHas(r.Header, "Connection", "upgrade")
}

// headerHas reports whether the comma-separated values of header name
// include token (case-insensitively).
func headerHas(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// ServeHTTP upgrades r to a websocket and serves GraphQL subscriptions on
// it until either side closes it. The connection outlives the request's
// timeout: its context keeps the request's values only.
func (s *wsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !headerHas(r.Header, "Sec-WebSocket-Protocol", wsProtocol) {
		writeErr(w, mediaJSON, http.StatusBadRequest, "a websocket at this URL must offer the graphql-transport-ws subprotocol (use the graphql-ws client)")
		return
	}
	if !s.originAllowed(r) {
		writeErrCode(w, mediaJSON, http.StatusForbidden, "websocket connections are accepted from this server's own origin and CORS_ALLOWED_ORIGINS only", string(models.CodeForbidden))
		return
	}
	c := &wsConn{srv: s, recheck: make(chan struct{}, 1)}
	ctx := context.WithValue(context.WithoutCancel(r.Context()), wsConnKey{}, c)
	limit := int64(wsReadLimit)
	t := transport.Websocket{
		Implementation:   c,
		InitFunc:         c.init,
		InitTimeout:      wsInitTimeout,
		PingPongInterval: wsPingInterval,
		PayloadReadLimit: &limit,
		ErrorFunc: func(ctx context.Context, err error) {
			s.log.DebugContext(ctx, "graphql websocket", "err", err)
		},
	}
	defer c.end()
	t.Do(w, r.WithContext(ctx), s.exec)
}

// originAllowed reports whether a browser at r's Origin may connect: the
// server's own origin (as the client reached it: models.RequestInfo, which
// honours TRUST_PROXY and PUBLIC_URL) or one of AllowedOrigins. Browsers
// do not apply CORS to websockets, so without this check any page a
// signed-in user visits could open one.
func (s *wsServer) originAllowed(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" {
		return false
	}
	origin := strings.ToLower(u.Scheme + "://" + u.Host)
	info := models.RequestInfoFrom(r.Context())
	if info.Host == "" {
		info.Scheme, info.Host = "http", r.Host
		if r.TLS != nil {
			info.Scheme = "https"
		}
	}
	return origin == strings.ToLower(info.BaseURL()) || slices.Contains(s.opts.AllowedOrigins, origin)
}

// admit counts a connection of account uid, unless it already has the
// most it may.
func (s *wsServer) admit(uid int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.accounts[uid] >= s.opts.MaxConnections {
		return false
	}
	s.accounts[uid]++
	return true
}

func (s *wsServer) leave(uid int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.accounts[uid]--; s.accounts[uid] <= 0 {
		delete(s.accounts, uid)
	}
}

type wsConnKey struct{}

// connFrom returns the websocket connection an operation runs on, or nil
// for an HTTP request.
func connFrom(ctx context.Context) *wsConn {
	c, _ := ctx.Value(wsConnKey{}).(*wsConn)
	return c
}

// wsConn is one websocket connection: its token and account, its running
// subscriptions, and the close code it is to be closed with. It is
// gqlgen's WebsocketImplementation for this one connection, so that it
// owns the socket and can choose the close code.
type wsConn struct {
	srv     *wsServer
	sock    *wsSocket
	recheck chan struct{}

	mu          sync.Mutex
	token       string
	check       *auth.TokenCheck
	account     int64 // counted in srv.accounts (0: not yet)
	acked       bool
	subs        int
	closeCode   int
	closeReason string
	cancel      context.CancelFunc
	timers      []*time.Timer
	idle        *time.Timer
	unsubscribe func()
}

// Accept implements transport.WebsocketImplementation: it accepts the
// graphql-transport-ws subprotocol only, and clears the read and write
// deadlines net/http set for the request (READ_TIMEOUT and the write
// timeout), which would otherwise cut the connection after seconds.
func (c *wsConn) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	opts.Subprotocols = []string{wsProtocol}
	impl := transport.CoderWebsocketImplementation{AcceptOptions: coderws.AcceptOptions{
		// The origin was checked in ServeHTTP (with CORS_ALLOWED_ORIGINS).
		InsecureSkipVerify: true,
	}}
	conn, err := impl.Accept(hijackWriter{w}, r, opts)
	if err != nil {
		return nil, err
	}
	c.sock = &wsSocket{WebsocketConn: conn, c: c}
	return c.sock, nil
}

// hijackWriter clears the deadlines of the connection it hands over.
type hijackWriter struct{ http.ResponseWriter }

func (h hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err == nil {
		_ = conn.SetDeadline(time.Time{})
	}
	return conn, rw, err
}

func (h hijackWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// wsSocket is the accepted socket with the close code chosen here: gqlgen
// closes with 1000 whenever the connection's context ends, and with 1002
// for every protocol problem.
type wsSocket struct {
	transport.WebsocketConn
	c *wsConn
}

func (s *wsSocket) WriteClose(code int, msg string) error {
	code, msg = s.c.closeStatus(code, msg)
	return s.WebsocketConn.WriteClose(code, msg)
}

// SetReadLimit passes the read limit on (gqlgen looks for the method).
func (s *wsSocket) SetReadLimit(n int64) {
	if l, ok := s.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(n)
	}
}

// SetReadDeadline passes the pong deadline on (gqlgen looks for the method).
func (s *wsSocket) SetReadDeadline(t time.Time) error {
	if d, ok := s.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}

// closeStatus is the code and reason the socket closes with: the one
// terminate chose, else gqlgen's, with graphql-transport-ws's codes for
// the protocol problems gqlgen reports as 1002.
func (c *wsConn) closeStatus(code int, msg string) (int, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeCode != 0 {
		return c.closeCode, c.closeReason
	}
	if code == transport.WebsocketCloseProtocolError {
		switch {
		case msg == "connection initialisation timeout":
			return closeInitTimeout, "Connection initialisation timeout"
		case !c.acked && msg == "unexpected message":
			return closeUnauthorized, "Unauthorized: send connection_init first"
		}
		return closeBadRequest, "Bad request: " + msg
	}
	return code, msg
}

// init is the connection_init handler: it checks the token of the payload
// ({"Authorization": "Bearer <token>"}, or {"authToken": "<token>"}) as an
// HTTP request's, counts the connection against its account's limit, and
// starts what ends the connection: the token's expiry, the end of its
// session or account, idleness and server shutdown.
func (c *wsConn) init(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	token := payload.Authorization()
	if token == "" {
		token = payload.GetString("authToken")
	}
	if token == "" {
		return refuse(ctx, closeForbidden, "Forbidden: send {\"Authorization\": \"Bearer <access token>\"} in connection_init")
	}
	tc, err := c.srv.auth.CheckToken(ctx, token)
	if err != nil {
		if models.ErrorCode(err) != models.CodeUnauthenticated {
			c.srv.log.WarnContext(ctx, "graphql websocket: token check failed", "err", err)
			return refuse(ctx, closeTryLater, "Try again later")
		}
		return refuse(ctx, closeForbidden, "Forbidden: "+closeText(err))
	}
	uid := tc.Viewer.UserID
	if !c.srv.admit(uid) {
		return refuse(ctx, closeTooMany, "Too many connections for this account")
	}
	ctx, cancel := context.WithCancel(ctx)
	c.mu.Lock()
	c.token, c.check, c.account, c.acked, c.cancel = token, tc, uid, true, cancel
	if !tc.ExpiresAt.IsZero() {
		c.timers = append(c.timers, time.AfterFunc(time.Until(tc.ExpiresAt), func() {
			c.terminate(closeForbidden, "Forbidden: the access token expired; connect again with a fresh one")
		}))
	}
	c.idle = time.AfterFunc(c.srv.opts.IdleTimeout, c.idleCheck)
	c.timers = append(c.timers, c.idle)
	c.mu.Unlock()
	// A sign-out, a password change, a deactivation or a demotion ends or
	// changes what the token stands for: check it again at once (the
	// changes arrive from every node).
	if n := c.srv.store.Notifier(); n != nil {
		session := tc.Session
		stop := n.Subscribe(func(ch database.Change) {
			if ch.Kind == database.ChangeSession && ch.Key == session || ch.Kind == database.ChangeUser && ch.ID == uid {
				select {
				case c.recheck <- struct{}{}:
				default:
				}
			}
		}, nil)
		c.mu.Lock()
		c.unsubscribe = stop
		c.mu.Unlock()
	}
	go c.watch(ctx)
	return auth.WithViewer(ctx, tc.Viewer), nil, nil
}

// refuse turns down a connection_init with code and reason.
func refuse(ctx context.Context, code int, reason string) (context.Context, *transport.InitPayload, error) {
	return transport.AppendCloseReason(transport.WithWebsocketCloseCode(ctx, code), reason), nil, errors.New(reason)
}

// watch checks the token again when its session or account changes, and
// closes the connection when the server shuts down.
func (c *wsConn) watch(ctx context.Context) {
	done := c.srv.opts.Done
	for {
		select {
		case <-ctx.Done():
			return
		case <-done:
			c.terminate(closeGoingAway, "Server shutting down")
			return
		case <-c.recheck:
			_, _ = c.verify(ctx, true)
		}
	}
}

// verify checks the connection's token again (fresh: reading its session,
// not the cache) and returns what it stands for now; when the token no
// longer holds, it closes the connection: 4403 once the token has expired
// (a client may connect again with a fresh one), 4401 when its session
// ended or its account was deactivated.
func (c *wsConn) verify(ctx context.Context, fresh bool) (*auth.TokenCheck, error) {
	c.mu.Lock()
	token, prev := c.token, c.check
	c.mu.Unlock()
	if prev == nil {
		return nil, models.Unauthenticated("")
	}
	check := c.srv.auth.CheckToken
	if fresh {
		check = c.srv.auth.RecheckToken
	}
	tc, err := check(ctx, token)
	switch {
	case err == nil:
		c.mu.Lock()
		c.check = tc
		c.mu.Unlock()
		return tc, nil
	case models.ErrorCode(err) != models.CodeUnauthenticated:
		c.srv.log.WarnContext(ctx, "graphql websocket: token check failed", "err", err)
		c.terminate(closeTryLater, "Try again later")
	case !prev.ExpiresAt.IsZero() && !time.Now().Before(prev.ExpiresAt):
		c.terminate(closeForbidden, "Forbidden: the access token expired; connect again with a fresh one")
	default:
		c.terminate(closeUnauthorized, "Unauthorized: "+closeText(err))
	}
	return nil, err
}

// viewer is the connection's viewer as last checked.
func (c *wsConn) viewer() models.Viewer {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.check == nil {
		return models.Viewer{}
	}
	return c.check.Viewer
}

// terminate closes the connection with code and reason (the first call
// wins): ending its context makes gqlgen stop every subscription and close
// the socket, with the code closeStatus gives.
func (c *wsConn) terminate(code int, reason string) {
	c.mu.Lock()
	if c.closeCode != 0 {
		c.mu.Unlock()
		return
	}
	c.closeCode, c.closeReason = code, reason
	cancel := c.cancel
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// acquire takes a subscription slot of the connection.
func (c *wsConn) acquire() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subs >= c.srv.opts.MaxSubscriptions {
		return &models.Error{Code: models.CodeRateLimited, Message: "This connection already runs the most subscriptions it may; complete one first, or open another connection."}
	}
	c.subs++
	if c.idle != nil {
		c.idle.Stop()
	}
	return nil
}

// release gives a subscription slot back; the idle timeout runs again
// once none is left.
func (c *wsConn) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subs--; c.subs == 0 && c.idle != nil {
		c.idle.Reset(c.srv.opts.IdleTimeout)
	}
}

func (c *wsConn) idleCheck() {
	c.mu.Lock()
	idle := c.subs == 0
	c.mu.Unlock()
	if idle {
		c.terminate(closeNormal, "Idle: no subscription for "+c.srv.opts.IdleTimeout.String())
	}
}

// end releases what the connection held once gqlgen is done with it, and
// makes sure the socket is closed (gqlgen leaves it open after a
// connection_init it cannot decode).
func (c *wsConn) end() {
	c.mu.Lock()
	cancel, timers, unsubscribe, account := c.cancel, c.timers, c.unsubscribe, c.account
	c.account = 0
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	for _, t := range timers {
		t.Stop()
	}
	if unsubscribe != nil {
		unsubscribe()
	}
	if account != 0 {
		c.srv.leave(account)
	}
	if c.sock != nil {
		_ = c.sock.WriteClose(closeBadRequest, "Bad request")
		_ = c.sock.Close()
	}
}

// wsOperations lets only subscriptions run over a websocket: queries and
// mutations go by HTTP, where the request's limits, status codes and audit
// batch apply.
type wsOperations struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = wsOperations{}

func (wsOperations) ExtensionName() string                   { return "WebsocketOperations" }
func (wsOperations) Validate(graphql.ExecutableSchema) error { return nil }

func (wsOperations) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if connFrom(ctx) == nil || rc.Operation == nil || rc.Operation.Operation == ast.Subscription {
		return nil
	}
	return &gqlerror.Error{
		Message:    "Only subscriptions run over the websocket; send queries and mutations by POST to this URL.",
		Extensions: map[string]any{"code": "BAD_REQUEST"},
	}
}

// wsEvents gives each response sent over a websocket (each subscription
// event) what an HTTP request gets: its own dataloaders, so an event never
// shows what an earlier one cached, reading as the connection's viewer;
// and its own audit batch, written before the event is sent. If the batch
// cannot be written, the event goes out as an error without its data.
type wsEvents struct {
	store *database.Store
	audit *audit.Trail
	log   *slog.Logger
}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = wsEvents{}

func (wsEvents) ExtensionName() string                   { return "WebsocketEvents" }
func (wsEvents) Validate(graphql.ExecutableSchema) error { return nil }

func (x wsEvents) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	c := connFrom(ctx)
	if c == nil {
		return next(ctx)
	}
	ctx = withLoaders(ctx, newLoaders(x.store, c.viewer))
	ctx, batch := x.audit.Begin(ctx)
	resp := next(ctx)
	if resp == nil {
		return resp
	}
	if err := batch.Flush(ctx); err != nil {
		return &graphql.Response{Errors: gqlerror.List{presentError(x.log)(ctx, models.Unavailable(err))}}
	}
	return resp
}

// closeText is the client's text of an authentication error, for a close
// frame: a *models.Error's message without its full stop (any other
// error's text is for the log only).
func closeText(err error) string {
	var me *models.Error
	if errors.As(err, &me) && me.Message != "" {
		return strings.TrimSuffix(me.Message, ".")
	}
	return "the access token was not accepted"
}
