package result

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"encoding/csv"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

func sampleRun(t testing.TB) *Run {
	t.Helper()
	h := NewHist()
	for v := int64(1000); v <= 100_000; v += 1000 { // 1 ms … 100 ms, 100 values
		h.RecordValue(v)
	}
	enc, err := Encode(h)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	return &Run{
		Schema: Schema, Start: start, End: start.Add(10 * time.Second), Status: Complete, Model: "closed", WindowS: 10,
		Requests: []*Request{{Name: "POST /checkout", Count: 100, Failures: 3, Bytes: 5000, Hist: enc, SvcHist: enc,
			Windows: []Window{{T: start.Unix(), Count: 100, Failures: 3, Bytes: 5000, Hist: enc}}}},
		Seconds:  []Second{{T: start.Unix(), Users: 5, Requests: 100, Failures: 3, P50: 50_000, P95: 95_000, P99: 99_000, Max: 100_000}},
		Failures: []Failure{{Name: "POST /checkout", Reason: "json field order_id missing", Count: 3}},
	}
}

func TestWriteLoadRoundTripAndLatestLink(t *testing.T) {
	root := t.TempDir()
	run := sampleRun(t)
	dir := DirFor(root, "smoke", run.Start)
	if filepath.Base(dir) != "20261128T120000Z" {
		t.Errorf("run folder %s", dir)
	}
	if err := Write(dir, run); err != nil {
		t.Fatal(err)
	}
	if err := Link(dir); err != nil {
		t.Fatal(err)
	}
	got, err := Load(filepath.Join(root, "smoke", "latest"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Requests[0].Count != 100 || got.Failures[0].Reason != "json field order_id missing" || !got.Start.Equal(run.Start) {
		t.Errorf("loaded %+v", got)
	}
	h, err := Decode(got.Requests[0].Hist)
	if err != nil || h.TotalCount() != 100 {
		t.Errorf("histogram after a round trip: %v, %v", h.TotalCount(), err)
	}
	// A second run moves latest.
	run2 := sampleRun(t)
	run2.Start = run2.Start.Add(time.Hour)
	dir2 := DirFor(root, "smoke", run2.Start)
	Write(dir2, run2)
	Link(dir2)
	if target, _ := os.Readlink(filepath.Join(root, "smoke", "latest")); target != filepath.Base(dir2) {
		t.Errorf("latest points at %s, want %s", target, filepath.Base(dir2))
	}
	// A folder without result.json, or of another schema, is refused.
	if _, err := Load(root); err == nil || !strings.Contains(err.Error(), "no result.json") {
		t.Errorf("loading a non-run: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "result.json"), []byte(`{"schema":"lab.run/v0"}`), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "lab.run/v0") {
		t.Errorf("loading another schema: %v", err)
	}
}

func TestLocustCSVs(t *testing.T) {
	run := sampleRun(t)
	data, err := StatsCSV(run)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := strings.Join(rows[0], ",")
	if !strings.HasPrefix(header, "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%") {
		t.Errorf("stats.csv header %s", header)
	}
	if len(rows) != 3 || rows[1][0] != "POST" || rows[1][1] != "/checkout" || rows[2][1] != "Aggregated" {
		t.Fatalf("stats.csv rows %v", rows)
	}
	col := func(name string) string {
		for i, h := range rows[0] {
			if h == name {
				return rows[1][i]
			}
		}
		t.Fatalf("no column %s", name)
		return ""
	}
	// 100 values 1…100 ms: median 50 ms, 95th 95 ms, 10 req/s over 10 s.
	for name, want := range map[string]string{"Request Count": "100", "Failure Count": "3", "Median Response Time": "50.02",
		"95%": "95.04", "Requests/s": "10.00", "Failures/s": "0.30", "Average Content Size": "50.00"} {
		if got := col(name); got != want {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}
	fails, _ := FailuresCSV(run)
	if string(fails) != "Method,Name,Error,Occurrences\nPOST,/checkout,json field order_id missing,3\n" {
		t.Errorf("failures.csv:\n%s", fails)
	}
	hist, _ := HistoryCSV(run)
	hrows, _ := csv.NewReader(strings.NewReader(string(hist))).ReadAll()
	if len(hrows) != 2 || hrows[1][3] != "Aggregated" || hrows[1][1] != "5" || hrows[1][4] != "100" {
		t.Errorf("stats_history.csv:\n%s", hist)
	}
}

func TestDecodeRefusesOtherGeometry(t *testing.T) {
	if _, err := Decode("not base64!"); err == nil {
		t.Error("garbage decoded")
	}
	other := hdrhistogram.New(1, 1000, 2)
	other.RecordValue(5)
	enc, _ := Encode(other)
	if _, err := Decode(enc); err == nil || !strings.Contains(err.Error(), "geometry") {
		t.Errorf("a histogram of another geometry decoded: %v", err)
	}
	// A value beyond 60 s is kept at 60 s, not dropped.
	if ClampUS(120_000_000) != HighestUS || ClampUS(0) != LowestUS {
		t.Error("ClampUS")
	}
}

// A histogram whose header states a huge geometry is refused before
// anything the size of that geometry is allocated: a crafted result.json
// must not exhaust memory (without the check, 1…2⁶²/5 digits took ~47 MB
// per histogram, and a run holds thousands).
func TestDecodeRefusesAHugeGeometryCheaply(t *testing.T) {
	var hdr bytes.Buffer
	binary.Write(&hdr, binary.BigEndian, []int32{0x1c849303, 0, 0, 5})
	binary.Write(&hdr, binary.BigEndian, []int64{1, 1 << 62})
	binary.Write(&hdr, binary.BigEndian, 1.0)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(hdr.Bytes())
	zw.Close()
	var raw bytes.Buffer
	binary.Write(&raw, binary.BigEndian, []int32{0x1c849304, int32(z.Len())})
	raw.Write(z.Bytes())
	enc := base64.StdEncoding.EncodeToString(raw.Bytes())

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Decode(enc)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "geometry") {
		t.Fatalf("Decode: %v", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Errorf("refusing the histogram allocated %d bytes", grew)
	}
}
