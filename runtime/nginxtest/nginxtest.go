// Package nginxtest serves a static page with a real nginx for tests that
// count requests against an independent server's access log.
package nginxtest

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
)

// Start runs nginx (Debian's nginx-light) on a free loopback port, serving
// one static file, with its access log in a temp folder. It returns the
// base URL and a function that stops nginx and returns the log (one line
// per request). Without nginx the test skips, or fails under CI.
func Start(t *testing.T) (string, func() []byte) {
	t.Helper()
	return start(t, "")
}

// StartTerse is Start with a log of one dot per request: a run of millions
// of requests logs megabytes, not gigabytes, and is still counted by line.
func StartTerse(t *testing.T) (string, func() []byte) {
	t.Helper()
	return start(t, "log_format terse '.';")
}

func start(t *testing.T, logFormat string) (string, func() []byte) {
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
  %[3]s
  access_log %[1]s/access.log%[4]s;
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
`, dir, addr, logFormat, map[bool]string{true: " terse", false: ""}[logFormat != ""])
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
