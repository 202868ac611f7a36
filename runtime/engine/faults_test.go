package engine_test

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lab/gates"
	"lab/gates/exitcode"
	"lab/runtime/result"
)

// rawTarget accepts connections on loopback and hands each request it
// reads (up to the blank line) to answer, which owns the connection from
// there: it may write anything, or reset it. It returns the host and the
// count of requests read.
func rawTarget(t *testing.T, answer func(c *net.TCPConn, r *bufio.Reader) bool) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var seen atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if line != "\r\n" {
						continue // the request line and headers; GETs have no body
					}
					seen.Add(1)
					if !answer(c.(*net.TCPConn), r) {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "http://" + ln.Addr().String(), &seen
}

const faultShape = `
shape "open" {
  stage {
    until = "3s"
    rate  = "50/s"
  }
}`

// checkAllFailed: every request the run sent is in it, each failed, and
// the reasons are a short list of words, not one per request.
func checkAllFailed(t *testing.T, r *result.Run, want ...string) {
	t.Helper()
	if r.Status != result.Complete {
		t.Errorf("status %s, want complete: a misbehaving target is what a run measures", r.Status)
	}
	if len(r.Requests) != 1 {
		t.Fatalf("%d request names", len(r.Requests))
	}
	q := r.Requests[0]
	if q.Count < 140 || q.Failures != q.Count || q.Sent == nil || *q.Sent != q.Count {
		t.Errorf("sent %v, counted %d, failed %d: want about 150, every one counted and failed", q.Sent, q.Count, q.Failures)
	}
	got := reasons(r, q.Name)
	if len(got) == 0 || len(got) > 3 {
		t.Errorf("reasons %q", got)
	}
	for _, g := range got {
		ok := false
		for _, w := range want {
			ok = ok || strings.HasPrefix(g, w)
		}
		if !ok {
			t.Errorf("reason %q, want one of %q", g, want)
		}
	}
}

// TestTargetResetsConnections: a target that resets every connection after
// reading the request (RST, not FIN) fails each request as a reset or a
// close, counted, and the run goes on.
func TestTargetResetsConnections(t *testing.T) {
	t.Parallel()
	host, seen := rawTarget(t, func(c *net.TCPConn, _ *bufio.Reader) bool {
		c.SetLinger(0)
		return false
	})
	path := writePlan(t, map[string]string{"plan.hcl": singleTask + faultShape})
	r, _ := runOpen(t, load(t, path, "host="+host))
	checkAllFailed(t, r, "connection reset", "connection closed by the server")
	if seen.Load() < r.Requests[0].Count {
		t.Errorf("the target read %d requests, the run counts %d", seen.Load(), r.Requests[0].Count)
	}
}

// TestTargetSendsMalformedHTTP: answers that are not HTTP (garbage, a bad
// status line, a Content-Length that is not a number) fail their requests
// as malformed, a reason that quotes nothing the target sent, and nothing
// panics.
func TestTargetSendsMalformedHTTP(t *testing.T) {
	t.Parallel()
	answers := []string{
		"\x00\x01\x02 not http at all\r\n\r\n",
		"HTTP/1.1 OK-ish\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: banana\r\n\r\nok",
	}
	for _, answer := range answers {
		host, _ := rawTarget(t, func(c *net.TCPConn, _ *bufio.Reader) bool {
			c.Write([]byte(answer))
			return false
		})
		path := writePlan(t, map[string]string{"plan.hcl": singleTask + faultShape})
		r, _ := runOpen(t, load(t, path, "host="+host))
		checkAllFailed(t, r, "malformed response: not HTTP/1.x headers")
	}
}

// TestTargetNeverAnswers: a target that reads requests and never answers
// fails each at its timeout, its latency recorded at the timeout value; the
// requests in flight stay bounded by rate × timeout, and the run ends on
// time: nothing waits past a request's deadline.
func TestTargetNeverAnswers(t *testing.T) {
	t.Parallel()
	host, _ := rawTarget(t, func(c *net.TCPConn, r *bufio.Reader) bool {
		r.ReadByte() // blocks until lab gives up on the connection
		return false
	})
	path := writePlan(t, map[string]string{"plan.hcl": strings.Replace(singleTask, "host = var.host", "host = var.host\n  timeout = \"500ms\"", 1) + faultShape})
	r, took := runOpen(t, load(t, path, "host="+host))
	if took > 3*time.Second+2*time.Second {
		t.Errorf("a 3 s run against a silent target took %v", took)
	}
	checkAllFailed(t, r, "timeout after 500ms")
	// Each timed-out request lets go of what it held: in flight stays near
	// rate × timeout (25), so the generator's memory is bounded.
	most := int64(0)
	for _, sec := range r.Seconds {
		most = max(most, int64(sec.InFlight))
	}
	if most == 0 || most > 40 {
		t.Errorf("at most %d requests in flight, want about 25 (50/s × 500 ms)", most)
	}
	h, _ := result.Decode(r.Requests[0].Hist)
	if lo, hi := h.ValueAtPercentile(1), h.ValueAtPercentile(99); lo < 490_000 || hi > 700_000 {
		t.Errorf("timed-out latencies %d…%d µs, want at the 500 ms timeout", lo, hi)
	}
}

// TestTargetStopsMidRun: the target goes away after a second and a half of
// a three-second run. What it answered counts as answered, the rest fails
// as refused or closed, every request sent is counted, the run ends on
// time, and its error_rate budget fails it.
func TestTargetStopsMidRun(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })}
	go srv.Serve(ln)
	host := "http://" + ln.Addr().String()
	path := writePlan(t, map[string]string{"plan.hcl": singleTask + faultShape + "\nsla \"all\" {\n  error_rate = \"1%\"\n}\n"})
	stop := make(chan struct{})
	go func() {
		time.Sleep(1500 * time.Millisecond)
		srv.Close() // the listener and every connection
		close(stop)
	}()
	start := time.Now()
	plan := load(t, path, "host="+host)
	r := run(t, plan)
	<-stop
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the run took %v", took)
	}
	q := r.Requests[0]
	if ok := q.Count - q.Failures; ok < 50 || q.Failures < 50 || q.Sent == nil || *q.Sent != q.Count {
		t.Errorf("%d answered, %d failed of %d counted (%v sent): want about 75 and 75, all counted", ok, q.Failures, q.Count, q.Sent)
	}
	for _, g := range reasons(r, q.Name) {
		if g != "connection refused" && g != "connection closed by the server" && g != "connection reset" {
			t.Errorf("reason %q", g)
		}
	}
	// The gate fails the run for those failures.
	vs, err := gates.Judge(plan, r, gates.Options{})
	if err != nil || gates.ExitCode(vs) != exitcode.Breach {
		t.Errorf("verdicts %+v (%v): want the error_rate budget to fail the run, exit 1", vs, err)
	}
}
