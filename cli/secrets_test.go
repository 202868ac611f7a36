package cli

import (
	"lab/cli/clitest"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
)

// TestSecretsAreSentButNeverWritten: a token from a sensitive variable
// (LAB_VAR_token) and a cookie written in the plan reach the target on
// every request, and neither appears in what lab prints or stores with the
// run (progress, verdicts, result.json with its copy of the plan, the CSV
// files, report.html); the token is in none of generated/ either (the
// Kubernetes master reads it from the Secret), where the cookie stays as
// the plan writes it (the ConfigMap ships the plan file). The stored run
// is still judged again.
func TestSecretsAreSentButNeverWritten(t *testing.T) {
	const token, cookie = "s3cr3t-t0ken-4711", "session=c00kie-value-0815"
	var ok, refused atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token || r.Header.Get("X-Api-Key") != token || r.Header.Get("Cookie") != cookie {
			refused.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		ok.Add(1)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "api.workload.hcl"), []byte(`user "client" {
  task "orders" {
    get     = "/orders"
    headers = { "X-Api-Key" = var.token }
  }
}
`), 0o644)
	plan := filepath.Join(dir, "api.hcl")
	os.WriteFile(plan, []byte(`variable "token" {
  sensitive = true
}

workload "api" {
  source  = "api.workload.hcl"
  host    = "http://`+ln.Addr().String()+`"
  headers = { Authorization = "Bearer ${var.token}", Cookie = "`+cookie+`" }
}

shape "s" {
  stage {
    until = "3s"
    rate  = "20/s"
  }
}

sla "all" {
  error_rate = "0%"
}
`), 0o644)
	env := map[string]string{"LAB_VAR_token": token}
	results, gen := filepath.Join(dir, "results"), filepath.Join(dir, "generated")
	var printed strings.Builder
	code, stdout, stderr := lab(t, env, "plan", plan, "--out", gen)
	printed.WriteString(stdout + stderr)
	if code != 0 || !regexp.MustCompile(`token +\(sensitive\)`).MatchString(stdout) || !regexp.MustCompile(`header +Cookie: \(sensitive\)`).MatchString(stdout) {
		t.Fatalf("lab plan: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = lab(t, env, "apply", plan, "--results", results, "--metrics", "off")
	printed.WriteString(stdout + stderr)
	if code != 0 {
		t.Fatalf("lab apply: exit %d\n%s%s", code, stdout, stderr)
	}
	if ok.Load() < 50 || refused.Load() != 0 {
		t.Errorf("the target saw %d requests with the credentials and %d without", ok.Load(), refused.Load())
	}
	runDir, _ := clitest.LatestRun(t, results)
	code, stdout, stderr = lab(t, nil, "gate", runDir)
	printed.WriteString(stdout + stderr)
	if code != 0 {
		t.Errorf("lab gate on the stored run (no token given): exit %d\n%s%s", code, stdout, stderr)
	}

	written := 0
	for root, secrets := range map[string][]string{results: {token, "c00kie-value"}, gen: {token}} {
		filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return err
			}
			b, _ := os.ReadFile(path)
			written++
			for _, secret := range secrets {
				if strings.Contains(string(b), secret) {
					t.Errorf("%s holds the secret %q", path, secret)
				}
			}
			return nil
		})
	}
	k8s, _ := os.ReadFile(filepath.Join(gen, "api", "k8s.yaml"))
	if !strings.Contains(string(k8s), "key: LAB_VAR_token") {
		t.Errorf("the Kubernetes master does not read LAB_VAR_token from the Secret:\n%s", k8s)
	}
	if written < 5 {
		t.Errorf("only %d files written under results/ and generated/", written)
	}
	for _, secret := range []string{token, "c00kie-value"} {
		if strings.Contains(printed.String(), secret) {
			t.Errorf("lab printed the secret %q", secret)
		}
	}
}
