package metrics

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"lab/runtime/guard"
)

// DefaultAddr is where lab apply serves /metrics unless told otherwise.
const DefaultAddr = "127.0.0.1:9646"

// Server serves an exporter's /metrics.
type Server struct {
	srv *http.Server
	ln  net.Listener

	mu     sync.Mutex
	waitCh chan struct{} // closed by the first scrape to start after Linger was called
}

// CheckAddr refuses an address beyond this machine without a token: the
// metrics name the plan's requests and budgets. Scrapers then send
// Authorization: Bearer <token>.
func CheckAddr(addr, token string) error { return guard.Check("--metrics", addr, token) }

// Serve starts serving x on addr (after CheckAddr): /metrics, and with a
// token only to requests that carry it as a bearer token.
func Serve(addr, token string, x *Exporter) (*Server, error) {
	if err := CheckAddr(addr, token); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics: %w", err)
	}
	mux := http.NewServeMux()
	s := &Server{ln: ln}
	mux.Handle("/metrics", s.noticed(promhttp.HandlerFor(x.reg, promhttp.HandlerOpts{})))
	var h http.Handler = mux
	if token != "" {
		h = guard.Bearer(token, mux)
	}
	s.srv = &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// noticed tells Linger of every scrape served.
func (s *Server) noticed(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		ch := s.waitCh
		s.mu.Unlock()
		next.ServeHTTP(w, r)
		if ch != nil {
			s.mu.Lock()
			select {
			case <-ch:
			default:
				close(ch)
			}
			s.mu.Unlock()
		}
	})
}

// Linger waits, for at most d and while ctx lasts, until a scrape that
// starts now or later has been served: Prometheus then has the final
// figures of a run that ends between two of its scrapes.
func (s *Server) Linger(ctx context.Context, d time.Duration) {
	if d <= 0 || ctx.Err() != nil {
		return
	}
	ch := make(chan struct{})
	s.mu.Lock()
	s.waitCh = ch
	s.mu.Unlock()
	select {
	case <-ch:
	case <-time.After(d):
	case <-ctx.Done():
	}
}

// Addr is where the server listens.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops serving, letting a scrape in progress end for a second.
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
}
