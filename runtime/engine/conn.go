package engine

import (
	"net"
	"runtime"
	"time"
)

// yieldConn lets other goroutines run between sending a request and reading
// its response. Read right after a write almost always finds nothing yet
// (EAGAIN), parks the goroutine and needs the poller to wake it: two
// syscalls and a park for nothing. Yielding first lets the other users send
// their requests meanwhile, so the response is usually there when read.
type yieldConn struct {
	net.Conn
	wrote bool
}

func (c *yieldConn) Write(b []byte) (int, error) {
	c.wrote = true
	return c.Conn.Write(b)
}

func (c *yieldConn) Read(b []byte) (int, error) {
	if c.wrote {
		c.wrote = false
		runtime.Gosched()
	}
	return c.Conn.Read(b)
}

// dialYield dials a TCP connection wrapped in yieldConn, within timeout
// (what is left of the request's deadline).
func dialYield(addr string, timeout time.Duration) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	return &yieldConn{Conn: c}, nil
}
