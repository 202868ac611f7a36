package lang

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// Functions for test data: encodings and digests a login or a signed
// request needs. They are pure, so a value made of constants is computed
// once at load.

var base64EncodeFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "s", Type: cty.String}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return cty.StringVal(base64.StdEncoding.EncodeToString([]byte(args[0].AsString()))), nil
	},
})

var base64DecodeFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "s", Type: cty.String}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		b, err := base64.StdEncoding.DecodeString(args[0].AsString())
		if err != nil {
			return cty.NilVal, function.NewArgErrorf(0, "not base64: %v", err)
		}
		if !utf8.Valid(b) {
			return cty.NilVal, function.NewArgErrorf(0, "decodes to bytes that are not UTF-8 text")
		}
		return cty.StringVal(string(b)), nil
	},
})

var sha256Func = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "s", Type: cty.String}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		sum := sha256.Sum256([]byte(args[0].AsString()))
		return cty.StringVal(hex.EncodeToString(sum[:])), nil
	},
})

// totpFunc is totp(secret): the current six-digit code of a base32 TOTP
// secret (RFC 6238, 30 s, SHA-1: what authenticator apps use), for a
// login with a second factor. It changes with the clock, so it is
// evaluated per request.
var totpFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "secret", Type: cty.String}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		code, err := totpCode(args[0].AsString(), time.Now())
		if err != nil {
			return cty.NilVal, err
		}
		return cty.StringVal(code), nil
	},
})

// totpCode is RFC 6238 with RFC 4226's truncation, written here rather
// than imported: lang imports only hcl and cty (docs/DESIGN.md, "The
// rules"), and the algorithm is a dozen lines of the standard library.
func totpCode(secret string, now time.Time) (string, error) {
	s := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(secret), " ", ""))
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(s, "="))
	if err != nil || len(key) == 0 {
		return "", fmt.Errorf("totp: the secret is not base32 (as an authenticator app's): %q", secret)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(now.Unix()/30))
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	code := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", code%1_000_000), nil
}

// traceparent is a W3C Trace Context header value for a new sampled trace,
// drawn from the user's random sequence: the target's tracing then shows
// lab's requests as traces of their own.
func (s *Scope) traceparent() string {
	var b [55]byte
	copy(b[:], "00-")
	hex.Encode(b[3:35], binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, s.r.Uint64()), s.r.Uint64()|1))
	b[35] = '-'
	hex.Encode(b[36:52], binary.BigEndian.AppendUint64(nil, s.r.Uint64()|1))
	copy(b[52:], "-01")
	return string(b[:])
}

// MultipartBoundary separates the parts of every multipart body lab sends:
// one fixed string, so that a body of constants is encoded once at load.
// It is long and odd enough that no test file holds it.
const MultipartBoundary = "lab-form-boundary-7b1f3e9c2d5a4086b8e1"

var filePartType = cty.Object(map[string]cty.Type{"kind": cty.String, "filename": cty.String, "content": cty.String, "content_type": cty.String})

// filePartFunc is file_part(filename, content, content_type): a file in a
// multipart body (content_type defaults to application/octet-stream).
var filePartFunc = function.New(&function.Spec{
	Params:   []function.Parameter{{Name: "filename", Type: cty.String}, {Name: "content", Type: cty.String}},
	VarParam: &function.Parameter{Name: "content_type", Type: cty.String},
	Type:     function.StaticReturnType(filePartType),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		ct := "application/octet-stream"
		if len(args) > 2 {
			ct = args[2].AsString()
		}
		if len(args) > 3 {
			return cty.NilVal, function.NewArgErrorf(3, "file_part takes a file name, its content and at most a content type")
		}
		return cty.ObjectVal(map[string]cty.Value{"kind": cty.StringVal("file_part"), "filename": args[0],
			"content": args[1], "content_type": cty.StringVal(ct)}), nil
	},
})

// FilePart is a multipart value that is a file: its name, content and type.
func FilePart(v cty.Value) (filename, content, contentType string, ok bool) {
	if v.IsNull() || !v.IsKnown() || !v.Type().Equals(filePartType) || v.GetAttr("kind").AsString() != "file_part" {
		return "", "", "", false
	}
	return v.GetAttr("filename").AsString(), v.GetAttr("content").AsString(), v.GetAttr("content_type").AsString(), true
}
