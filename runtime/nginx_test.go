package runtime_test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"lab/runtime/needs"
	"lab/runtime/result"
)

// startNginx runs nginx (Debian's nginx-light) on a free loopback port,
// serving one static file, with its access log in a temp folder. It returns
// the base URL and a function that stops nginx and returns the log.
func startNginx(t *testing.T) (string, func() []byte) {
	t.Helper()
	bin := needs.Tool(t, "nginx", "Debian package nginx-light")
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "www"), 0o755)
	os.WriteFile(filepath.Join(dir, "www", "index.html"), []byte("<html>hello from nginx</html>\n"), 0o644)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	user := ""
	if os.Geteuid() == 0 {
		// Workers would otherwise run as nobody, who cannot read a test's
		// private temp folder.
		user = "user root;"
	}
	conf := user + fmt.Sprintf(`
worker_processes 1;
daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 4096; }
http {
  access_log %[1]s/access.log;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  keepalive_requests 1000000;
  server {
    listen %[2]s;
    root %[1]s/www;
  }
}
`, dir, addr)
	os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644)
	cmd := exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if i > 100 {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("nginx did not start: %s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	stopped := false
	stop := func() []byte {
		if !stopped {
			stopped = true
			// SIGQUIT: graceful, every logged line is written.
			cmd.Process.Signal(syscall.SIGQUIT)
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
			}
		}
		log, _ := os.ReadFile(filepath.Join(dir, "access.log"))
		return log
	}
	t.Cleanup(func() { stop() })
	return "http://" + addr, stop
}

// TestExactCountAgainstNginx: the Run counts exactly the requests nginx
// logged, closed and open model alike.
func TestExactCountAgainstNginx(t *testing.T) {
	for _, shape := range []string{`
shape "closed" {
  stage {
    until      = "4s"
    users      = 32
    spawn_rate = 64
  }
}`, `
shape "open" {
  stage {
    until = "4s"
    rate  = "500/s"
  }
}`} {
		host, stop := startNginx(t)
		path := writePlan(t, map[string]string{"plan.hcl": singleTask + shape})
		r := run(t, load(t, path, "host="+host))
		logged := bytes.Count(stop(), []byte("\n"))
		var counted int64
		for _, q := range r.Requests {
			counted += q.Count
		}
		if r.Status != result.Complete || counted == 0 || int64(logged) != counted {
			t.Errorf("%s model: the Run counts %d requests, nginx logged %d (status %s)", r.Model, counted, logged, r.Status)
		}
		if r.Requests[0].Failures != 0 {
			t.Errorf("%s model: %d failures: %+v", r.Model, r.Requests[0].Failures, r.Failures)
		}
	}
}
