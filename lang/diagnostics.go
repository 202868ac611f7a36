package lang

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// WriteDiagnostics prints each diagnostic as
//
//	plans/spike.hcl:27:3: error: Unknown shop knob
//	   27 |   eror_rate  = 0.002
//	      |   ^^^^^^^^^
//	  The shop has no knob "eror_rate". Did you mean "error_rate"?
//
// The first line is file:line:column, which editors and CI annotations
// understand; the source line shows where, the last says what is valid.
func WriteDiagnostics(w io.Writer, sources map[string][]byte, diags hcl.Diagnostics, color bool) error {
	var b bytes.Buffer
	for i, d := range diags {
		if i > 0 {
			b.WriteByte('\n')
		}
		sev, paint := "error", "\x1b[1;31m"
		if d.Severity == hcl.DiagWarning {
			sev, paint = "warning", "\x1b[1;33m"
		}
		if !color {
			paint = ""
		}
		reset, bold := "", ""
		if color {
			reset, bold = "\x1b[0m", "\x1b[1m"
		}
		if d.Subject != nil {
			fmt.Fprintf(&b, "%s:%d:%d: ", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
		}
		fmt.Fprintf(&b, "%s%s:%s %s%s%s\n", paint, sev, reset, bold, d.Summary, reset)
		if d.Subject != nil {
			writeSnippet(&b, sources[d.Subject.Filename], *d.Subject, paint, reset)
		}
		if d.Detail != "" {
			for _, line := range strings.Split(strings.TrimSpace(d.Detail), "\n") {
				fmt.Fprintf(&b, "  %s\n", line)
			}
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// writeSnippet shows the first line of rng with carets under the range.
func writeSnippet(b *bytes.Buffer, src []byte, rng hcl.Range, paint, reset string) {
	if src == nil || rng.Start.Byte > len(src) || rng.Start.Byte < 0 {
		return
	}
	lineStart := bytes.LastIndexByte(src[:rng.Start.Byte], '\n') + 1
	lineEnd := len(src)
	if i := bytes.IndexByte(src[rng.Start.Byte:], '\n'); i >= 0 {
		lineEnd = rng.Start.Byte + i
	}
	line := strings.TrimRight(string(src[lineStart:lineEnd]), "\r")
	line = strings.ReplaceAll(line, "\t", " ")
	num := fmt.Sprint(rng.Start.Line)
	pad := strings.Repeat(" ", len(num))
	fmt.Fprintf(b, "  %s | %s\n", num, line)
	endByte := rng.End.Byte
	if endByte > lineEnd || rng.End.Line != rng.Start.Line {
		endByte = lineEnd
	}
	if endByte < rng.Start.Byte {
		endByte = rng.Start.Byte
	}
	lead := utf8.RuneCount(src[lineStart:rng.Start.Byte])
	width := utf8.RuneCount(src[rng.Start.Byte:endByte])
	if width == 0 {
		width = 1
	}
	fmt.Fprintf(b, "  %s | %s%s%s%s\n", pad, strings.Repeat(" ", lead), paint, strings.Repeat("^", width), reset)
}
