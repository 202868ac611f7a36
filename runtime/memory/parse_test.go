package memory

import (
	"context"
	"lab/runtime/needs"
	"math"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseStatus(t *testing.T) {
	for _, c := range []struct {
		name, text string
		bytes      float64
		field, err string
	}{
		// a current kernel: RssAnon wins over VmRSS, whatever the order
		{"RssAnon", "Name:\tshop\nVmRSS:\t  2048 kB\nRssAnon:\t  116 kB\nRssFile:\t 1484 kB\n", 116 * 1024, "RssAnon", ""},
		// kernels before 4.5 have VmRSS only
		{"VmRSS only", "Name:\tshop\nVmRSS:\t  2048 kB\n", 2048 * 1024, "VmRSS", ""},
		// kernel threads have neither
		{"kernel thread", "Name:\tkthreadd\nState:\tS (sleeping)\n", 0, "", "no RssAnon or VmRSS"},
		{"bad unit", "RssAnon:\t 116 MB\n", 0, "", `want a size in kB, got "116 MB"`},
		{"bad number", "RssAnon:\t -3 kB\n", 0, "", "want a size in kB"},
		{"empty", "", 0, "", "no RssAnon or VmRSS"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, field, err := parseStatus([]byte(c.text))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || v != c.bytes || field != c.field {
				t.Errorf("= %v %q %v, want %v %q", v, field, err, c.bytes, c.field)
			}
		})
	}
}

func TestParseMemoryStat(t *testing.T) {
	for _, c := range []struct {
		name, text string
		bytes      float64
		key, err   string
	}{
		// cgroup v2: anon, not file (page cache) nor active_anon
		{"v2", "active_anon 5\nanon 123456\nfile 999999\n", 123456, "anon", ""},
		// cgroup v1: the hierarchical total_rss, not the cgroup's own rss
		{"v1", "cache 30814208\nrss 1\ninactive_anon 9\ntotal_rss 1683456\n", 1683456, "total_rss", ""},
		{"neither", "file 1\n", 0, "", "no anon (cgroup v2) or total_rss (v1)"},
		{"bad value", "anon lots\n", 0, "", `anon: want bytes, got "lots"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, key, err := parseMemoryStat([]byte(c.text))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || v != c.bytes || key != c.key {
				t.Errorf("= %v %q %v, want %v %q", v, key, err, c.bytes, c.key)
			}
		})
	}
}

// The engine's answers on cgroup v2, v1 and engines without anon figures,
// served on a unix socket as the engine would.
func TestContainerSamplerAnswers(t *testing.T) {
	answers := map[string]struct {
		status int
		body   string
	}{
		"v2":      {200, `{"memory_stats":{"usage":9000,"stats":{"anon":5000,"file":3000,"inactive_file":2000}}}`},
		"v1":      {200, `{"memory_stats":{"usage":9000,"stats":{"rss":400,"total_rss":4000,"total_inactive_file":2000,"cache":2500}}}`},
		"usage":   {200, `{"memory_stats":{"usage":9000,"stats":{"inactive_file":2000}}}`},
		"stopped": {200, `{"read":"0001-01-01T00:00:00Z","memory_stats":{}}`},
		"garbage": {200, `<html>`},
		"missing": {404, `{"message":"No such container: missing"}`},
		"broken":  {500, `oops`},
	}
	sock := filepath.Join(t.TempDir(), "docker.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		needs.Missing(t, "no unix sockets here: %v", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/containers/"), "/stats")
		if r.URL.Query().Get("stream") != "false" || r.URL.Query().Get("one-shot") != "true" {
			http.Error(w, "want one reading", 400)
			return
		}
		a := answers[name]
		w.WriteHeader(a.status)
		w.Write([]byte(a.body))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	for _, c := range []struct {
		name  string
		bytes float64
		key   string
		err   string
	}{
		{"v2", 5000, "anon", ""},
		{"v1", 4000, "total_rss", ""},
		{"usage", 7000, "usage - inactive_file", ""},
		{"stopped", 0, "", "docker stats of stopped: no memory figures (the container is not running)"},
		{"garbage", 0, "", "not a stats answer"},
		{"missing", 0, "", "docker stats of missing: No such container: missing"},
		{"broken", 0, "", "500 Internal Server Error"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := newContainerSampler(c.name, sock)
			if err != nil {
				t.Fatal(err)
			}
			r, err := s.Sample(context.Background())
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || r.Bytes != c.bytes || r.GCCycles != -1 || s.Source() != c.key+" of container "+c.name+" (Docker stats)" {
				t.Errorf("= %+v %v, source %q; want %v bytes from %s", r, err, s.Source(), c.bytes, c.key)
			}
		})
	}
	t.Run("no engine", func(t *testing.T) {
		s, _ := newContainerSampler("x", filepath.Join(t.TempDir(), "none.sock"))
		if _, err := s.Sample(context.Background()); err == nil || !strings.Contains(err.Error(), "docker engine at ") {
			t.Errorf("error %v, want one naming the engine's socket", err)
		}
	})
	t.Run("tcp DOCKER_HOST", func(t *testing.T) {
		s, _ := newContainerSampler("x", dockerSocket("tcp://127.0.0.1:2376"))
		if _, err := s.Sample(context.Background()); err == nil || !strings.Contains(err.Error(), "only unix:// sockets") {
			t.Errorf("error %v, want one saying only unix sockets work", err)
		}
	})
}

// Parsers never panic, and what they accept is a size ≥ 0.
func FuzzParseStatus(f *testing.F) {
	f.Add([]byte("RssAnon:\t  116 kB\n"))
	f.Add([]byte("VmRSS:\t18446744073709551615 kB\n"))
	f.Add([]byte("RssAnon:"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if v, _, err := parseStatus(data); err == nil && (v < 0 || math.IsNaN(v) || math.IsInf(v, 0)) {
			t.Errorf("accepted %v bytes", v)
		}
	})
}

func FuzzParseMemoryStat(f *testing.F) {
	f.Add([]byte("anon 5\n"))
	f.Add([]byte("total_rss 18446744073709551615\n"))
	f.Add([]byte("anon"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if v, _, err := parseMemoryStat(data); err == nil && (v < 0 || math.IsNaN(v) || math.IsInf(v, 0)) {
			t.Errorf("accepted %v bytes", v)
		}
	})
}

func FuzzParseDockerStats(f *testing.F) {
	f.Add([]byte(`{"memory_stats":{"usage":9000,"stats":{"anon":5000}}}`))
	f.Add([]byte(`{"memory_stats":{"usage":100,"stats":{"inactive_file":2000}}}`))
	f.Add([]byte(`{"memory_stats":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if v, _, err := parseDockerStats(data); err == nil && (v < 0 || math.IsNaN(v) || math.IsInf(v, 0)) {
			t.Errorf("accepted %v bytes", v)
		}
	})
}

func FuzzMetricValue(f *testing.F) {
	f.Add([]byte("m 5\n"), "m")
	f.Add([]byte("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 2\nh_count 1\n"), "h_sum")
	f.Add([]byte("m{a=\"1\"} 1e308\nm{a=\"2\"} 1e308\n"), "m")
	f.Add([]byte("m -Inf\n"), "m")
	f.Fuzz(func(t *testing.T, body []byte, name string) {
		fams, err := parseProm(body)
		if err != nil {
			return
		}
		if v, err := metricValue(fams, name); err == nil && (v < 0 || math.IsNaN(v) || math.IsInf(v, 0)) {
			t.Errorf("accepted %v bytes", v)
		}
		gcCycles(fams)
	})
}
