package memory

import (
	"context"
	"encoding/json"
	"lab/runtime/needs"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// A name that is no container but a Swarm service (stack deploy ignores
// container_name) is read from the service's one running task here; a
// service with more than one task is not guessed at.
func TestContainerSamplerFindsSwarmTask(t *testing.T) {
	tasks := map[string][]string{"lab_shop": {"abc123def4567890"}, "lab_worker": {"w1", "w2"}}
	sock := filepath.Join(t.TempDir(), "docker.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		needs.Missing(t, "no unix sockets here: %v", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/containers/json" {
			var f struct{ Label, Status []string }
			json.Unmarshal([]byte(r.URL.Query().Get("filters")), &f)
			var list []map[string]string
			if len(f.Label) == 1 && len(f.Status) == 1 && f.Status[0] == "running" {
				for _, id := range tasks[strings.TrimPrefix(f.Label[0], "com.docker.swarm.service.name=")] {
					list = append(list, map[string]string{"Id": id})
				}
			}
			json.NewEncoder(w).Encode(list)
			return
		}
		name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/containers/"), "/stats")
		if name == "abc123def4567890" {
			w.Write([]byte(`{"memory_stats":{"usage":9000,"stats":{"anon":5000}}}`))
			return
		}
		w.WriteHeader(404)
		w.Write([]byte(`{"message":"No such container: ` + name + `"}`))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	s, _ := newContainerSampler("lab_shop", sock)
	for i := 0; i < 2; i++ { // the second reading goes to the task found
		r, err := s.Sample(context.Background())
		if err != nil || r.Bytes != 5000 {
			t.Fatalf("reading %d: %+v %v, want 5000 bytes of the service's task", i, r, err)
		}
	}
	if src := s.Source(); src != "anon of Swarm service lab_shop, container abc123def456 (Docker stats)" {
		t.Errorf("source %q", src)
	}
	s, _ = newContainerSampler("lab_worker", sock)
	if _, err := s.Sample(context.Background()); err == nil || !strings.Contains(err.Error(), "No such container: lab_worker") {
		t.Errorf("a service of 2 tasks: error %v, want the engine's no such container", err)
	}
}
