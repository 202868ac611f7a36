package memory

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// CgroupRoot is where cgroup paths that are not absolute are looked up.
const CgroupRoot = "/sys/fs/cgroup"

// cgroupSampler reads a cgroup's anonymous memory from memory.stat: `anon`
// on cgroup v2, `total_rss` (anon of the cgroup and its children) on a v1
// memory controller directory.
//
// Not memory.current (v2) or memory.usage_in_bytes (v1): they also count the
// page cache — files the service read or wrote, kept until the kernel needs
// the memory back — so a service that writes logs would look like it leaks,
// and one that leaks could hide behind cache being reclaimed.
type cgroupSampler struct {
	dir string

	mu  sync.Mutex
	key string // the memory.stat key last read
}

func newCgroupSampler(path string) (*cgroupSampler, error) {
	if strings.TrimSpace(path) == "" {
		return nil, errors.New("memory source cgroup: no directory given")
	}
	dir := path
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(CgroupRoot, dir)
	}
	dir = filepath.Clean(dir)
	if filepath.Base(dir) == "memory.stat" {
		dir = filepath.Dir(dir) // the file named instead of its directory
	}
	return &cgroupSampler{dir: dir, key: "anon"}, nil
}

func (s *cgroupSampler) Sample(ctx context.Context) (Reading, error) {
	if err := ctx.Err(); err != nil {
		return Reading{}, err
	}
	path := filepath.Join(s.dir, "memory.stat")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if _, derr := os.Stat(s.dir); derr != nil {
			return Reading{}, fmt.Errorf("no cgroup %s (has the target stopped?)", s.dir)
		}
		return Reading{}, fmt.Errorf("no memory.stat in %s: not a cgroup, or its memory controller is not enabled (cgroup.subtree_control of its parent)", s.dir)
	}
	if err != nil {
		return Reading{}, err
	}
	v, key, err := parseMemoryStat(data)
	if err != nil {
		return Reading{}, fmt.Errorf("%s: %w", path, err)
	}
	s.mu.Lock()
	s.key = key
	s.mu.Unlock()
	return Reading{Bytes: v, GCCycles: -1}, nil
}

func (s *cgroupSampler) Source() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("%s of cgroup %s", s.key, s.dir)
}

func (s *cgroupSampler) Kind() string { return KindCgroup }

// parseMemoryStat finds anonymous memory in a cgroup memory.stat file: lines
// of "key value" in bytes. v2 has `anon`; v1 has `total_rss`.
func parseMemoryStat(data []byte) (float64, string, error) {
	var v1 string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		switch key {
		case "anon":
			n, err := strconv.ParseUint(strings.TrimSpace(val), 10, 64)
			if err != nil {
				return 0, "", fmt.Errorf("anon: want bytes, got %q", val)
			}
			return float64(n), key, nil
		case "total_rss":
			v1 = val
		}
	}
	if err := sc.Err(); err != nil {
		return 0, "", err
	}
	if v1 == "" {
		return 0, "", errors.New("no anon (cgroup v2) or total_rss (v1) line")
	}
	n, err := strconv.ParseUint(strings.TrimSpace(v1), 10, 64)
	if err != nil {
		return 0, "", fmt.Errorf("total_rss: want bytes, got %q", v1)
	}
	return float64(n), "total_rss", nil
}
