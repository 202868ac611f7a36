package engine

import (
	"fmt"
	"mime/multipart"
	"net/textproto"
	"strings"

	"lab/lang"
)

// appendWriter is an io.Writer that appends to a byte slice.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"")

// appendMultipart encodes a multipart/form-data body with lab's boundary:
// a part per pair, a file where the value is a file_part.
func appendMultipart(dst []byte, ps []lang.Pair, s *lang.Scope) ([]byte, error) {
	w := &appendWriter{b: dst}
	mw := multipart.NewWriter(w)
	if err := mw.SetBoundary(lang.MultipartBoundary); err != nil {
		return dst, err
	}
	for _, p := range ps {
		v, err := p.Value.Eval(s)
		if err != nil {
			return dst, fmt.Errorf("%s: %v", p.Key, err)
		}
		if name, content, ctype, ok := lang.FilePart(v); ok {
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, quoteEscaper.Replace(p.Key), quoteEscaper.Replace(name)))
			h.Set("Content-Type", ctype)
			part, err := mw.CreatePart(h)
			if err != nil {
				return dst, err
			}
			if _, err := part.Write([]byte(content)); err != nil {
				return dst, err
			}
			continue
		}
		text, err := p.Value.AppendText(nil, s)
		if err != nil {
			return dst, fmt.Errorf("%s: %v", p.Key, err)
		}
		if err := mw.WriteField(p.Key, string(text)); err != nil {
			return dst, err
		}
	}
	if err := mw.Close(); err != nil {
		return dst, err
	}
	return w.b, nil
}
