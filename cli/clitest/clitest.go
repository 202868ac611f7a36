// Package clitest holds what the command tests (package cli) and the
// end-to-end tests (package e2e) share: the repository's root as working
// folder, the lab binary built once, loopback ports, test shops, plans
// written for a test, and the latest stored run. For tests only.
package clitest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"lab/runtime/result"
	"lab/sut"
	"lab/sut/shoptest"
)

// ToRoot makes the repository's root the working folder, so tests name
// plans as a user types them (plans/smoke.hcl) and lab prints the same
// paths a user sees. Call it from TestMain, before any test runs.
func ToRoot() {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("clitest: cannot locate the repository")
	}
	if err := os.Chdir(filepath.Join(filepath.Dir(file), "..", "..")); err != nil {
		panic(err)
	}
}

var (
	buildOnce sync.Once
	labBin    string
	buildErr  error
)

// Binary builds the lab command once for the tests that run it as a
// process (signals, child shops, working folders, workers).
func Binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lab-bin-")
		if err != nil {
			buildErr = err
			return
		}
		labBin = filepath.Join(dir, "lab")
		out, err := exec.Command("go", "build", "-o", labBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return labBin
}

// ExitCode is the exit code of a finished command, -1 when it did not
// exit on its own.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// FreePort hands out a loopback address for a server the test starts
// later. Not from the kernel's ephemeral range: there, the client
// connections of the load tests running alongside can take the port
// between this check and the server's bind (a shop that then fails to
// start, exit 3). Below that range only listeners bind, and no address is
// handed out twice in one test binary.
func FreePort(t *testing.T) string {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 1000 {
		p := 20000 + rand.IntN(12000) // under 32768, the usual ip_local_port_range floor
		if portsGiven[p] {
			continue
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		ln.Close()
		portsGiven[p] = true
		return addr
	}
	t.Fatal("no free loopback port in 20000-31999")
	return ""
}

var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{}
)

// Shop serves a shop with the knobs, tuned, on a free loopback port for
// the test's lifetime and returns its base URL.
func Shop(t *testing.T, tune func(*sut.Knobs)) string {
	k := sut.DefaultKnobs()
	tune(&k)
	return shoptest.Start(t, k)
}

// WritePlan writes a plan with the workload and returns its path.
func WritePlan(t *testing.T, dir, name, workload, host, body string) string {
	t.Helper()
	os.WriteFile(filepath.Join(dir, "workload.hcl"), []byte(workload), 0o644)
	src := fmt.Sprintf("workload \"shop\" {\n  source = \"workload.hcl\"\n  host   = %q\n}\n%s", host, body)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// ClosedShape is a shape of users for d.
func ClosedShape(d string, users int) string {
	return fmt.Sprintf("shape \"s\" {\n  duration = %q\n  stage {\n    until      = %q\n    users      = %d\n    spawn_rate = 100\n  }\n}\n", d, d, users)
}

// OpenShape is a shape of arrivals at rate for d.
func OpenShape(d, rate string) string {
	return fmt.Sprintf("shape \"s\" {\n  duration = %q\n  stage {\n    until = %q\n    rate  = %q\n  }\n}\n", d, d, rate)
}

// LatestRun loads the one run stored under results.
func LatestRun(t *testing.T, results string) (string, *result.Run) {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(results, "*", "2*"))
	if len(dirs) != 1 {
		t.Fatalf("%d runs under %s", len(dirs), results)
	}
	run, err := result.Load(dirs[0])
	if err != nil {
		t.Fatal(err)
	}
	return dirs[0], run
}

// SyncBuffer is a buffer several goroutines may write (a command's
// streams, a child's output).
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// FunnelWorkload is the shop's funnel with short waits, so a few seconds make hundreds of requests.
const FunnelWorkload = `
user "browser" {
  weight = 3
  wait   = between("100ms", "300ms")
  task "home" {
    weight = 4
    get    = "/"
  }
  task "product" {
    weight = 6
    get    = "/products/${random_int(1, 500)}"
    name   = "/products/:id"
  }
}

user "buyer" {
  weight = 1
  wait   = constant("200ms")
  sequence "checkout" {
    step "list" {
      get = "/products?page=${random_int(1, 20)}"
    }
    step "add_to_cart" {
      post    = "/cart"
      json    = { product_id = random_int(1, 500), qty = 1 }
      capture = { cart_id = response.json.cart_id }
    }
    step "checkout" {
      post = "/checkout"
      json = { cart_id = captured.cart_id }
      expect {
        status = 200
        json   = ["order_id"]
      }
    }
  }
}
`

// OneRoute: one route, one request per arrival.
const OneRoute = `
user "u" {
  task "t" {
    get = "/"
  }
}
`

// TwoRoutes: two routes, one request per arrival, the open-model workload
// of the regression and abort tests.
const TwoRoutes = `
user "visitor" {
  task "home" {
    get = "/"
  }
  task "product" {
    get  = "/products/${random_int(1, 500)}"
    name = "/products/:id"
  }
}
`
