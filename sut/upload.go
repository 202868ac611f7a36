package sut

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
)

// Bounds of the upload routes: a body is hashed as it streams in, so the
// shop never holds more than one field's value of it.
const (
	maxUploadBody  = 10 << 20
	maxUploadParts = 1000
	maxFieldValue  = 64 << 10
)

type uploadedFile struct {
	Field    string `json:"field"`
	Filename string `json:"filename"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
}

type uploadJSON struct {
	Files  []uploadedFile    `json:"files"`
	Fields map[string]string `json:"fields"`
}

// upload is POST /upload: a multipart/form-data body whose files are
// measured and hashed, and whose other fields are echoed (the last of a
// repeated name wins).
func (s *Shop) upload(w http.ResponseWriter, r *http.Request) int {
	r.Body = http.MaxBytesReader(w, r.Body, maxUploadBody)
	mr, err := r.MultipartReader()
	if err != nil {
		return writeError(w, http.StatusBadRequest, "send multipart/form-data with a boundary and at least one file part ("+
			truncate(err.Error(), 120)+"; Content-Type was "+quoteOrNone(truncate(r.Header.Get("Content-Type"), 80))+")")
	}
	out := uploadJSON{Files: []uploadedFile{}, Fields: map[string]string{}}
	h := sha256.New()
	for parts := 0; ; parts++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return uploadError(w, err)
		}
		if parts == maxUploadParts {
			return writeError(w, http.StatusBadRequest, fmt.Sprintf("more than %d parts", maxUploadParts))
		}
		if p.FileName() == "" {
			v, err := io.ReadAll(io.LimitReader(p, maxFieldValue+1))
			if err != nil {
				return uploadError(w, err)
			}
			if len(v) > maxFieldValue {
				return writeError(w, http.StatusBadRequest, fmt.Sprintf("field %q is longer than %d bytes; send it as a file part", truncate(p.FormName(), 60), maxFieldValue))
			}
			out.Fields[p.FormName()] = string(v)
			continue
		}
		size, sum, err := hashAll(h, p)
		if err != nil {
			return uploadError(w, err)
		}
		out.Files = append(out.Files, uploadedFile{p.FormName(), p.FileName(), size, sum})
	}
	if len(out.Files) == 0 {
		return writeError(w, http.StatusBadRequest, "no file part: a part needs a filename in its Content-Disposition, e.g. form-data; name=\"file\"; filename=\"a.txt\"")
	}
	return writeJSON(w, http.StatusOK, out)
}

// uploadError tells a body over the cap (413) from a broken one (400).
func uploadError(w http.ResponseWriter, err error) int {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is larger than %d bytes", maxUploadBody))
	}
	return writeError(w, http.StatusBadRequest, "body is not valid multipart/form-data: "+truncate(err.Error(), 120))
}

type echoJSON struct {
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
}

// echo is POST /echo: what the shop received, so a test sees the
// Content-Type and the body a client really sent.
func (s *Shop) echo(w http.ResponseWriter, r *http.Request) int {
	size, sum, err := hashAll(sha256.New(), http.MaxBytesReader(w, r.Body, maxUploadBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is larger than %d bytes", maxUploadBody))
		}
		return writeError(w, http.StatusBadRequest, "reading body: "+truncate(err.Error(), 120))
	}
	return writeJSON(w, http.StatusOK, echoJSON{r.Header.Get("Content-Type"), size, sum})
}

// hashAll reads src to the end through h (reset first) and returns its size
// and hex SHA-256.
func hashAll(h hash.Hash, src io.Reader) (int64, string, error) {
	h.Reset()
	n, err := io.Copy(h, src)
	if err != nil {
		return n, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// readCapped reads the whole body if it is at most limit bytes; a non-zero
// code is the status to answer with msg.
func readCapped(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, int, string) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is larger than %d bytes", limit)
		}
		return nil, http.StatusBadRequest, "reading body: " + truncate(err.Error(), 120)
	}
	return body, 0, ""
}
