package sut

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"
)

// ReadyPrefix starts the line the shop prints once its socket is bound,
// followed by the address: "listening on http://127.0.0.1:8080". Start reads
// it to learn the port when Listen asked for port 0.
const ReadyPrefix = "listening on http://"

// shutdownGrace is how long in-flight requests may finish after a stop signal.
const shutdownGrace = 5 * time.Second

// Run serves a shop with k on k.Listen until ctx ends, then shuts down
// gracefully. It prints the ready line and the admin endpoint's changes to out.
func Run(ctx context.Context, k Knobs, out io.Writer) error {
	s, err := New(k)
	if err != nil {
		return err
	}
	s.log = out
	ln, err := net.Listen("tcp", k.Listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s%s\n", ReadyPrefix, ln.Addr())
	if s.admin != nil {
		fmt.Fprintf(out, "admin endpoint: GET/PUT http://%s/admin/knobs (Authorization: Bearer <admin_token>)\n", ln.Addr())
	}
	return s.Serve(ctx, ln)
}

// Serve answers requests on ln until ctx ends; then it stops accepting, lets
// in-flight requests finish for up to 5 s and closes what is left.
func (s *Shop) Serve(ctx context.Context, ln net.Listener) error {
	base, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return base },
		ErrorLog:          log.New(s.log, "shop: ", 0),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(s.log, "shutting down")
	graceCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := srv.Shutdown(graceCtx)
	if err != nil {
		cancelBase() // ends the injected sleeps of requests still running
		err = errors.Join(fmt.Errorf("requests still running after %v; closed them", shutdownGrace), srv.Close())
	}
	if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return err
}
