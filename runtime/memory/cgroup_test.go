package memory_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lab/lang"
	"lab/runtime/memory"
	"lab/runtime/memory/hogtest"
	"lab/runtime/needs"
)

// ownCgroup is this process's cgroup directory with a memory.stat: the
// unified (v2) one, mounted at /sys/fs/cgroup or, on hybrid hosts, at
// /sys/fs/cgroup/unified; else the v1 memory controller's.
func ownCgroup(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		needs.Missing(t, "no /proc/self/cgroup: %v", err)
	}
	var dirs []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			dirs = append([]string{
				filepath.Join(memory.CgroupRoot, parts[2]),
				filepath.Join(memory.CgroupRoot, "unified", parts[2]),
			}, dirs...)
		case strings.Contains(","+parts[1]+",", ",memory,"):
			dirs = append(dirs, filepath.Join(memory.CgroupRoot, "memory", parts[2]))
		}
	}
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "memory.stat")); err == nil {
			return dir
		}
	}
	needs.Missing(t, "this process's cgroup has no readable memory.stat (tried %v)", dirs)
	return ""
}

// A child of this process is in its cgroup: allocating 64 MiB there grows
// the cgroup's anonymous memory by about that much. Other processes of the
// same cgroup (a parallel `go test ./...`) can blur one try, so it gets three.
func TestCgroupSamplerSeesAChildAllocate(t *testing.T) {
	dir := ownCgroup(t)
	s, err := memory.NewSampler(lang.MemorySource{Kind: lang.MemoryCgroup, Path: dir}, memory.SUTInfo{})
	if err != nil {
		t.Fatal(err)
	}
	h := hogtest.Start(t, hogtest.Build(t))
	const n = 64 * hogtest.MiB
	ok := false
	for try := 1; try <= 3 && !ok; try++ {
		before := sample(t, s)
		h.Alloc(t, n)
		after := sample(t, s)
		grew := after.Bytes - before.Bytes
		t.Logf("try %d, %s: %.1f MiB → %.1f MiB, grew %.2f MiB for %d MiB allocated",
			try, s.Source(), before.Bytes/hogtest.MiB, after.Bytes/hogtest.MiB, grew/hogtest.MiB, n/hogtest.MiB)
		ok = grew >= 0.9*n && grew <= 1.25*n
		if after.GCCycles != -1 || s.Kind() != memory.KindCgroup {
			t.Errorf("GC cycles %d, kind %q; want -1, cgroup", after.GCCycles, s.Kind())
		}
	}
	if !ok {
		t.Errorf("the cgroup's anon memory never grew by about %d MiB", n/hogtest.MiB)
	}
	if src := s.Source(); !strings.HasPrefix(src, "anon of cgroup ") && !strings.HasPrefix(src, "total_rss of cgroup ") {
		t.Errorf("source %q, want anon (v2) or total_rss (v1)", src)
	}
}

func TestCgroupSamplerErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "gone")
	notCgroup := t.TempDir()
	for _, c := range []struct{ path, err string }{
		{missing, "no cgroup " + missing},
		{notCgroup, "no memory.stat in " + notCgroup},
	} {
		s, err := memory.NewSampler(lang.MemorySource{Kind: lang.MemoryCgroup, Path: c.path}, memory.SUTInfo{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sample(context.Background()); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: %v, want an error containing %q", c.path, err, c.err)
		}
	}
	// A relative path is under /sys/fs/cgroup; naming the file means its directory.
	s, err := memory.NewSampler(lang.MemorySource{Kind: lang.MemoryCgroup, Path: "system.slice/shop.service/memory.stat"}, memory.SUTInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "anon of cgroup /sys/fs/cgroup/system.slice/shop.service"; s.Source() != want {
		t.Errorf("source %q, want %q", s.Source(), want)
	}
}
