package web

import (
	"bytes"
	"net"
)

// Listener wraps ln so that the answers net/http writes by itself, before
// any handler runs (400 for a malformed request, 431 for oversized
// headers, 505, ...), carry the same security headers as every other
// answer. net/http writes each such answer as one Write of a fixed shape
// ("HTTP/1.1 <status>\r\nContent-Type: text/plain; charset=utf-8\r\n
// Connection: close\r\n\r\n<text>") and closes the connection; handlers'
// answers never have that shape, since every adapter sets its headers.
func Listener(ln net.Listener) net.Listener { return &listener{Listener: ln} }

type listener struct{ net.Listener }

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	return &conn{Conn: c}, nil
}

type conn struct {
	net.Conn
}

// cannedHeaders is the header block net/http's own error answers end with.
var cannedHeaders = []byte("\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n")

// extraHeaders are added to those answers.
var extraHeaders = "\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nX-Frame-Options: DENY" +
	"\r\nCache-Control: no-store\r\nContent-Security-Policy: " + APIPolicy

func (c *conn) Write(p []byte) (int, error) {
	if bytes.HasPrefix(p, []byte("HTTP/1.")) {
		if i := bytes.Index(p, cannedHeaders); i > 0 && bytes.IndexByte(p[:i], '\n') < 0 {
			out := make([]byte, 0, len(p)+len(extraHeaders))
			out = append(out, p[:i]...)
			out = append(out, extraHeaders...)
			out = append(out, p[i:]...)
			if _, err := c.Conn.Write(out); err != nil {
				return 0, err
			}
			return len(p), nil
		}
	}
	return c.Conn.Write(p)
}
