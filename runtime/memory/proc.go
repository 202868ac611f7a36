package memory

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
)

// pidSampler reads /proc/PID/status. RssAnon is resident anonymous memory,
// what a leak grows; VmRSS also counts mapped files (the binary, shared
// libraries), which come and go with page cache pressure. GC cycles are
// unknown from outside the process.
type pidSampler struct {
	pid   int
	mu    sync.Mutex
	field string // the field last read: RssAnon, or VmRSS on kernels before 4.5
}

func newPIDSampler(pid int) *pidSampler { return &pidSampler{pid: pid, field: fieldRssAnon} }

func (s *pidSampler) Sample(ctx context.Context) (Reading, error) {
	if err := ctx.Err(); err != nil {
		return Reading{}, err
	}
	v, field, err := procStatus(s.pid)
	if err != nil {
		return Reading{}, err
	}
	s.mu.Lock()
	s.field = field
	s.mu.Unlock()
	return Reading{Bytes: v, GCCycles: -1}, nil
}

func (s *pidSampler) Source() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("%s of pid %d", s.field, s.pid)
}

func (s *pidSampler) Kind() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return kindOfField(s.field)
}

const (
	fieldRssAnon = "RssAnon"
	fieldVmRSS   = "VmRSS"
)

func kindOfField(field string) string {
	if field == fieldVmRSS {
		return KindRSS
	}
	return KindRSSAnon
}

// procStatus reads a process's resident anonymous memory (RssAnon, else
// VmRSS) in bytes, and which field it was.
func procStatus(pid int) (float64, string, error) {
	path := "/proc/" + strconv.Itoa(pid) + "/status"
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, "", fmt.Errorf("process %d is not running (no %s)", pid, path)
	}
	if err != nil {
		return 0, "", err
	}
	v, field, err := parseStatus(data)
	if err != nil {
		return 0, "", fmt.Errorf("%s: %w", path, err)
	}
	return v, field, nil
}

// parseStatus finds RssAnon (else VmRSS) in the text of /proc/PID/status,
// whose lines read "RssAnon:\t  116 kB" (the unit is always kB = KiB).
func parseStatus(data []byte) (float64, string, error) {
	var rss string
	var haveRSS bool
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch key {
		case fieldRssAnon:
			v, err := parseKB(val)
			if err != nil {
				return 0, "", fmt.Errorf("%s: %w", key, err)
			}
			return v, fieldRssAnon, nil
		case fieldVmRSS:
			rss, haveRSS = val, true
		}
	}
	if err := sc.Err(); err != nil {
		return 0, "", err
	}
	if !haveRSS {
		// Kernel threads and zombies have neither.
		return 0, "", errors.New("no RssAnon or VmRSS line (a kernel thread or an exited process?)")
	}
	v, err := parseKB(rss)
	if err != nil {
		return 0, "", fmt.Errorf("%s: %w", fieldVmRSS, err)
	}
	return v, fieldVmRSS, nil
}

func parseKB(val string) (float64, error) {
	num, unit, _ := strings.Cut(strings.TrimSpace(val), " ")
	if strings.TrimSpace(unit) != "kB" {
		return 0, fmt.Errorf("want a size in kB, got %q", strings.TrimSpace(val))
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("want a size in kB, got %q", strings.TrimSpace(val))
	}
	return float64(n) * 1024, nil
}
