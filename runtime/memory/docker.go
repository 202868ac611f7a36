package memory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// DefaultDockerSocket is where the Docker engine listens unless DOCKER_HOST
// names another unix socket.
const DefaultDockerSocket = "/var/run/docker.sock"

// dockerSocket is the engine's socket: host (DOCKER_HOST, as the command
// line read it) when it is a unix:// address, else the default. Other
// DOCKER_HOST schemes (tcp with TLS, ssh) would need the Docker SDK's
// machinery and are not supported; the error at the first sample says so.
func dockerSocket(host string) string {
	if h := host; h != "" {
		if path, ok := strings.CutPrefix(h, "unix://"); ok {
			return path
		}
		return h
	}
	return DefaultDockerSocket
}

// containerSampler reads a container's memory from the Docker Engine API
// (GET /containers/{name}/stats?stream=false&one-shot=true) over its unix
// socket, with plain net/http: no Docker SDK and its dependencies.
type containerSampler struct {
	name   string
	socket string
	client *http.Client

	mu   sync.Mutex
	key  string // which figure the last reading used
	task string // the container of the Swarm service called name, once found
}

func newContainerSampler(name, socket string) (*containerSampler, error) {
	if strings.TrimSpace(name) == "" {
		return nil, errors.New("memory source container: no container name given")
	}
	if strings.ContainsAny(name, "/?#") {
		return nil, fmt.Errorf("memory source container: %q is not a container name or id", name)
	}
	s := &containerSampler{name: name, socket: socket, key: "anon"}
	var dialer net.Dialer
	s.client = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			if strings.Contains(socket, "://") {
				return nil, fmt.Errorf("DOCKER_HOST=%s: only unix:// sockets are supported", socket)
			}
			return dialer.DialContext(ctx, "unix", socket)
		},
		MaxIdleConnsPerHost: 1,
		IdleConnTimeout:     30 * time.Second,
	}}
	return s, nil
}

// dockerStats is the part of the engine's stats answer that is read.
type dockerStats struct {
	MemoryStats struct {
		Usage *uint64           `json:"usage"`
		Stats map[string]uint64 `json:"stats"`
	} `json:"memory_stats"`
}

func (s *containerSampler) Sample(ctx context.Context) (Reading, error) {
	s.mu.Lock()
	ref := s.ref()
	s.mu.Unlock()
	status, body, err := s.get(ctx, "/containers/"+url.PathEscape(ref)+"/stats?stream=false&one-shot=true")
	if err == nil && status == http.StatusNotFound && ref == s.name {
		// Not a container: perhaps a Swarm service, whose one task on this
		// node is the container (stack deploy ignores container_name).
		if id, ok := s.swarmTask(ctx); ok {
			s.mu.Lock()
			s.task = id
			s.mu.Unlock()
			status, body, err = s.get(ctx, "/containers/"+url.PathEscape(id)+"/stats?stream=false&one-shot=true")
		}
	}
	if err != nil {
		return Reading{}, err
	}
	if status != http.StatusOK {
		var msg struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(body, &msg) == nil && msg.Message != "" {
			return Reading{}, fmt.Errorf("docker stats of %s: %s", s.name, msg.Message)
		}
		return Reading{}, fmt.Errorf("docker stats of %s: %d %s", s.name, status, http.StatusText(status))
	}
	v, key, err := parseDockerStats(body)
	if err != nil {
		return Reading{}, fmt.Errorf("docker stats of %s: %w", s.name, err)
	}
	s.mu.Lock()
	s.key = key
	s.mu.Unlock()
	return Reading{Bytes: v, GCCycles: -1}, nil
}

// ref is what the engine is asked about: the Swarm task found for the
// name, else the name. Called with mu held.
func (s *containerSampler) ref() string {
	if s.task != "" {
		return s.task
	}
	return s.name
}

// get asks the engine for path and returns the status and body.
func (s *containerSampler) get(ctx context.Context, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://docker"+path, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return 0, nil, fmt.Errorf("docker engine at %s: %w", s.socket, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("docker stats of %s: %w", s.name, err)
	}
	return resp.StatusCode, body, nil
}

// swarmTask finds the one running container of the Swarm service called
// s.name on this node.
func (s *containerSampler) swarmTask(ctx context.Context) (string, bool) {
	filters := `{"label":["com.docker.swarm.service.name=` + s.name + `"],"status":["running"]}`
	status, body, err := s.get(ctx, "/containers/json?filters="+url.QueryEscape(filters))
	if err != nil || status != http.StatusOK {
		return "", false
	}
	var list []struct {
		ID string `json:"Id"`
	}
	if json.Unmarshal(body, &list) != nil || len(list) != 1 || list[0].ID == "" {
		return "", false
	}
	return list[0].ID, true
}

func (s *containerSampler) Source() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.task != "" {
		return fmt.Sprintf("%s of Swarm service %s, container %.12s (Docker stats)", s.key, s.name, s.task)
	}
	return fmt.Sprintf("%s of container %s (Docker stats)", s.key, s.name)
}

func (s *containerSampler) Kind() string { return KindDocker }

// parseDockerStats picks the container's anonymous memory from a stats
// answer, in order: `anon` (cgroup v2); `total_rss` or `rss` (cgroup v1's
// anonymous memory); else usage minus inactive file pages (total_inactive_file
// on v1, inactive_file on v2, cache on old engines) — what `docker stats`
// shows, which still counts active page cache.
func parseDockerStats(body []byte) (float64, string, error) {
	var st dockerStats
	if err := json.Unmarshal(body, &st); err != nil {
		return 0, "", fmt.Errorf("not a stats answer: %v", err)
	}
	m := st.MemoryStats
	if m.Usage == nil && len(m.Stats) == 0 {
		return 0, "", errors.New("no memory figures (the container is not running)")
	}
	for _, key := range []string{"anon", "total_rss", "rss"} {
		if v, ok := m.Stats[key]; ok {
			return float64(v), key, nil
		}
	}
	if m.Usage == nil {
		return 0, "", errors.New("no anon, rss or usage figure in memory_stats")
	}
	usage := *m.Usage
	for _, key := range []string{"total_inactive_file", "inactive_file", "cache"} {
		if v, ok := m.Stats[key]; ok {
			if v < usage {
				usage -= v
			}
			return float64(usage), "usage - " + key, nil
		}
	}
	return float64(usage), "usage", nil
}
