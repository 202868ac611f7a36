package e2e

import (
	"context"
	"flag"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"lab/runtime/needs"
)

var docsShots = flag.Bool("docs", false, "also write the browser tests' screenshots into docs/screenshots (make screenshots)")

// browser is a headless Chromium (Debian's chromium package) driven with
// chromedp. It keeps every console error and uncaught exception of its
// pages: a page that throws fails the test that opened it.
type browser struct {
	ctx  context.Context
	mu   sync.Mutex
	errs []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	// Debian's chromium here; the Google Chrome that GitHub's Ubuntu
	// runners come with (Ubuntu's chromium deb is a stub for the snap).
	path := ""
	for _, name := range []string{"chromium", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil && path == "" {
			path = p
		}
	}
	if path == "" {
		path = needs.Tool(t, "chromium", "apt-get install chromium")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 900), chromedp.Flag("disable-gpu", true))
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); acancel() })
	// The first action starts the browser; its context must be the
	// browser's own (a timeout on it would end the browser with it).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("chromium did not start: %v", err)
	}
	b := &browser{ctx: ctx}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.mu.Lock()
				b.errs = append(b.errs, m.String())
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// do runs the actions, for at most d.
func (b *browser) do(t *testing.T, d time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, d)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browser: %v (console errors so far: %q)", err, b.consoleErrors())
	}
}

// eval evaluates a JavaScript expression on the page.
func eval[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("browser: %s: %v", expr, err)
	}
	return v
}

// waitFor waits until the expression is true on the page.
func (b *browser) waitFor(t *testing.T, d time.Duration, expr string) {
	t.Helper()
	b.do(t, d+5*time.Second, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Poll[bool](expr, chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(d))(ctx, tg)
		return err
	}))
}

func (b *browser) consoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errs...)
}

// overlappingText lists the pairs of texts in the page's charts whose
// boxes, as the browser laid them out, overlap by more than a pixel each
// way: budget labels stacked on one another, a tick label under a title.
// Every screenshot is checked.
func (b *browser) overlappingText(t *testing.T) []string {
	return eval[[]string](t, b, `(() => {
		const out = [];
		for (const svg of document.querySelectorAll('svg.chart')) {
			const boxes = [...svg.querySelectorAll('text')]
				.map(e => ({t: e.textContent, r: e.getBoundingClientRect()}))
				.filter(x => x.r.width > 0 && x.r.height > 0);
			for (let i = 0; i < boxes.length; i++) {
				for (let j = i + 1; j < boxes.length; j++) {
					const a = boxes[i].r, c = boxes[j].r;
					const w = Math.min(a.right, c.right) - Math.max(a.left, c.left);
					const h = Math.min(a.bottom, c.bottom) - Math.max(a.top, c.top);
					if (w > 1 && h > 1) out.push(svg.id + ': "' + boxes[i].t + '" over "' + boxes[j].t + '"');
				}
			}
		}
		return out;
	})()`)
}

// screenshot saves the whole page as a PNG among the test's artifacts
// (go test -artifacts keeps them) and, under -docs, as docs/screenshots/name.
func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if over := b.overlappingText(t); len(over) > 0 {
		t.Errorf("%s: chart labels overlap: %q", name, over)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot %s is not a PNG (%d bytes)", name, len(png))
	}
	paths := []string{filepath.Join(t.ArtifactDir(), name)}
	if *docsShots {
		paths = append(paths, filepath.Join("docs", "screenshots", name))
	}
	for _, p := range paths {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s (%d KB)", p, len(png)/1024)
	}
}

// TestOverlappingTextFindsOverlaps: the check every screenshot makes
// finds two labels drawn on one another, and not two a line apart.
func TestOverlappingTextFindsOverlaps(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	page := `<svg class="chart" id="c" viewBox="0 0 200 100" width="400" xmlns="http://www.w3.org/2000/svg">` +
		`<text x="150" y="40" text-anchor="end">p95 ≤ 250ms</text><text x="150" y="44" text-anchor="end">p99 ≤ 500ms</text>` +
		`<text x="150" y="80" text-anchor="end">GET / p95 ≤ 2ms</text></svg>`
	b.do(t, 20*time.Second, chromedp.Navigate("data:text/html;charset=utf-8,"+url.PathEscape(page)))
	over := b.overlappingText(t)
	if len(over) != 1 || !strings.Contains(over[0], `"p95 ≤ 250ms" over "p99 ≤ 500ms"`) {
		t.Errorf("overlaps found: %q, want the two labels 4 units apart", over)
	}
}
