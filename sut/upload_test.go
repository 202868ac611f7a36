package sut

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// multipartBody builds a form with the fields and then the files (field,
// filename, content).
func multipartBody(t testing.TB, fields map[string]string, files ...[3]string) (body []byte, contentType string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		fw, err := mw.CreateFormFile(f[0], f[1])
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte(f[2]))
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

func TestUpload(t *testing.T) {
	s := newTestShop(t, nil)
	big := strings.Repeat("lab shop upload\n", 40_000) // 640,000 bytes
	body, ct := multipartBody(t, map[string]string{"title": "two files", "note": "é ü"},
		[3]string{"avatar", "me.png", "\x89PNG\r\n\x1a\nnot really"},
		[3]string{"doc", "report.txt", big})
	w := send(s, "POST", "/upload", string(body), "Content-Type", ct)
	if w.Code != 200 {
		t.Fatalf("POST /upload: %d %s", w.Code, w.Body)
	}
	got := decode[uploadJSON](t, w)
	want := []uploadedFile{
		{"avatar", "me.png", 18, sha([]byte("\x89PNG\r\n\x1a\nnot really"))},
		{"doc", "report.txt", int64(len(big)), sha([]byte(big))},
	}
	if len(got.Files) != 2 || got.Files[0] != want[0] || got.Files[1] != want[1] {
		t.Errorf("files %+v, want %+v", got.Files, want)
	}
	if len(got.Fields) != 2 || got.Fields["title"] != "two files" || got.Fields["note"] != "é ü" {
		t.Errorf("fields %v", got.Fields)
	}
	// An empty file is still a file.
	body, ct = multipartBody(t, nil, [3]string{"f", "empty.bin", ""})
	if got := decode[uploadJSON](t, send(s, "POST", "/upload", string(body), "Content-Type", ct)); len(got.Files) != 1 ||
		got.Files[0].Size != 0 || got.Files[0].SHA256 != sha(nil) {
		t.Errorf("empty file: %+v", got)
	}

	withFile, withFileCT := multipartBody(t, nil, [3]string{"file", "a.txt", "the content of a file"})
	body, ct = multipartBody(t, map[string]string{"only": "fields"})
	tooMany, tooManyCT := func() ([]byte, string) {
		fields := map[string]string{}
		for i := range maxUploadParts {
			fields[fmt.Sprint("f", i)] = "x"
		}
		return multipartBody(t, fields, [3]string{"file", "a", "b"})
	}()
	huge, hugeCT := multipartBody(t, nil, [3]string{"file", "huge.bin", strings.Repeat("x", maxUploadBody)})
	longField, longFieldCT := multipartBody(t, map[string]string{"essay": strings.Repeat("y", maxFieldValue+1)}, [3]string{"file", "a", "b"})
	for _, c := range []struct {
		name, body, ct string
		code           int
		says           string
	}{
		{"no file part", string(body), ct, 400, "no file part"},
		{"not multipart", "a=b", formType, 400, "multipart/form-data"},
		{"no Content-Type", "a=b", "", 400, "no Content-Type"},
		{"no boundary", string(body), "multipart/form-data", 400, "boundary"},
		{"wrong boundary", string(body), "multipart/form-data; boundary=nothere", 400, "not valid multipart"},
		{"truncated in a file", string(withFile[:len(withFile)-30]), withFileCT, 400, "not valid multipart"},
		{"too many parts", string(tooMany), tooManyCT, 400, "more than 1000 parts"},
		{"over 10 MiB", string(huge), hugeCT, 413, "larger than"},
		{"long field", string(longField), longFieldCT, 400, "longer than"},
	} {
		w := send(s, "POST", "/upload", c.body, "Content-Type", c.ct)
		if e := decode[errorBody](t, w); w.Code != c.code || !strings.Contains(e.Error, c.says) {
			t.Errorf("%s: %d %s, want %d saying %q", c.name, w.Code, truncate(w.Body.String(), 300), c.code, c.says)
		}
	}
}

func TestEcho(t *testing.T) {
	s := newTestShop(t, nil)
	xml := `<?xml version="1.0"?><order id="1"/>`
	for _, ct := range []string{"application/xml", "text/plain; charset=ISO-8859-1", "", "application/x-www-form-urlencoded"} {
		w := send(s, "POST", "/echo", xml, "Content-Type", ct)
		got := decode[echoJSON](t, w)
		if w.Code != 200 || got != (echoJSON{ct, int64(len(xml)), sha([]byte(xml))}) {
			t.Errorf("POST /echo with Content-Type %q: %d %+v", ct, w.Code, got)
		}
	}
	// Over a real connection, what a stock client sends is what shows.
	srv := httptest.NewServer(s)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/echo", "application/xml", strings.NewReader(xml))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got echoJSON
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || got.ContentType != "application/xml" || got.Size != int64(len(xml)) {
		t.Errorf("over HTTP: %+v %v", got, err)
	}
	if w := send(s, "POST", "/echo", strings.Repeat("z", maxUploadBody+1)); w.Code != 413 {
		t.Errorf("echo over the cap: %d, want 413", w.Code)
	}
	if got := decode[echoJSON](t, send(s, "POST", "/echo", strings.Repeat("z", maxUploadBody))); got.Size != maxUploadBody {
		t.Errorf("echo at the cap: %+v", got)
	}
}

// TestHostileInput: oversized, malformed and garbage requests to the new
// routes get a clear 4xx with a JSON error, never a panic or a 5xx.
func TestHostileInput(t *testing.T) {
	s := newTestShop(t, func(k *Knobs) { k.AdminToken = testToken })
	token := loginForm(t, s)
	sid := login(t, s, "mallory")
	hugeForm := url.Values{"username": {"a"}, "password": {strings.Repeat("p", 2<<20)}, csrfField: {token}}.Encode()
	garbageCookies := []string{
		"sessionid=\x00\xff\xfe; ;;; =; ==; csrftoken=",
		strings.Repeat("sessionid=x; ", 5000),
		"sessionid=" + strings.Repeat("A", 10_000),
		`sessionid="` + sid + `"`, // quoted: Go's parser unquotes it
		"csrftoken=" + token + "; csrftoken=" + strings.Repeat("B", 32),
		"\"; sessionid",
		"sessionid=" + sid + "\x7f",
	}
	type req struct {
		method, path, body string
		headers            []string
	}
	cases := []req{
		{"POST", "/login", hugeForm, []string{"Content-Type", formType, "Cookie", "csrftoken=" + token}},
		{"POST", "/login", "a=%zz&b=%", []string{"Content-Type", formType, "Cookie", "csrftoken=" + token}},
		{"POST", "/login", "x", []string{"Content-Type", "%%%;;==\x01"}},
		{"POST", "/login", strings.Repeat("&", 60_000), []string{"Content-Type", formType, "Cookie", "csrftoken=" + token}},
		{"POST", "/logout", hugeForm, []string{"Content-Type", formType, "Cookie", "csrftoken=" + token}},
		{"POST", "/logout", "x", []string{"X-CSRFToken", strings.Repeat("T", 50_000), "Cookie", "csrftoken=" + token}},
		{"POST", "/upload", "--x\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\nabc", []string{"Content-Type", "multipart/form-data; boundary=x"}},
		{"POST", "/upload", "--x\r\n\r\n--x--", []string{"Content-Type", "multipart/form-data; boundary=" + strings.Repeat("b", 100)}},
		{"POST", "/upload", "--x--", []string{"Content-Type", `multipart/form-data; boundary="unterminated`}},
		{"POST", "/upload", "--b\r\nContent-Disposition: \x00garbage\r\n\r\nv\r\n--b--\r\n", []string{"Content-Type", "multipart/form-data; boundary=b"}},
		{"POST", "/upload", "--b\r\n" + strings.Repeat("H: v\r\n", 20_000) + "\r\nv\r\n--b--\r\n", []string{"Content-Type", "multipart/form-data; boundary=b"}},
	}
	for _, path := range []string{"/account", "/login", "/products/1", "/cart", "/admin/sessions"} {
		for _, c := range garbageCookies {
			cases = append(cases, req{"GET", path, "", []string{"Cookie", c}})
		}
	}
	for _, c := range garbageCookies {
		cases = append(cases, req{"POST", "/login", "username=a&password=secret&csrfmiddlewaretoken=" + token, []string{"Content-Type", formType, "Cookie", c}})
		cases = append(cases, req{"POST", "/logout", "", []string{"Cookie", c, "X-CSRFToken", token}})
	}
	for _, c := range cases {
		var w *httptest.ResponseRecorder
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("%s %s %q %q: panic %v", c.method, c.path, truncate(c.body, 80), truncateAll(c.headers), p)
				}
			}()
			w = send(s, c.method, c.path, c.body, c.headers...)
		}()
		switch {
		case w.Code >= 500:
			t.Errorf("%s %s %q %q: %d %s", c.method, c.path, truncate(c.body, 80), truncateAll(c.headers), w.Code, w.Body)
		case w.Code >= 400:
			if e := decode[errorBody](t, w); e.Error == "" {
				t.Errorf("%s %s: %d without a JSON error", c.method, c.path, w.Code)
			}
		}
	}
	if w := send(s, "POST", "/login", hugeForm, "Content-Type", formType, "Cookie", "csrftoken="+token); w.Code != 413 {
		t.Errorf("a 2 MiB login form: %d, want 413", w.Code)
	}
	if w := send(s, "POST", "/login", "a=%zz", "Content-Type", formType, "Cookie", "csrftoken="+token); w.Code != 400 {
		t.Errorf("a malformed form: %d, want 400", w.Code)
	}
	// A quoted session cookie is the session (Go unquotes cookie values);
	// the request still counts.
	if w := send(s, "GET", "/account", "", "Cookie", `sessionid="`+sid+`"`); w.Code != 200 {
		t.Errorf("quoted session cookie: %d", w.Code)
	}
}

func truncateAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = truncate(s, 60)
	}
	return out
}
