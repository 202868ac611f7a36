package hist

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"unsafe"

	"github.com/klauspost/compress/zlib"
)

// V2 encoding constants (HdrHistogram's wire format).
const (
	compressedCookie = 0x1c849304 // V2CompressedEncodingCookieBase
	payloadCookie    = 0x1c849303 // V2EncodingCookieBase
	headerSize       = 40
)

// Decoder decodes the Run's encoded histograms (base64 of HdrHistogram's V2
// compressed form), reusing its zlib reader and buffers. A Decoder is not
// safe for concurrent use; use one per goroutine.
type Decoder struct {
	raw     []byte
	payload []byte
	src     bytes.Reader
	zr      io.ReadCloser
	scratch Hist
}

// ErrGeometry marks a histogram whose geometry is not the Run's.
var ErrGeometry = errors.New("histogram geometry is not 1µs…60s with 3 significant digits")

// payloadOf returns the decoded V2 payload of s: zig-zag LEB128 counts.
func (d *Decoder) payloadOf(s string) ([]byte, error) {
	n := base64.StdEncoding.DecodedLen(len(s))
	if cap(d.raw) < n {
		d.raw = make([]byte, n)
	}
	// The string's bytes are only read: no copy of every window's text.
	m, err := base64.StdEncoding.Decode(d.raw[:n], unsafe.Slice(unsafe.StringData(s), len(s)))
	if err != nil {
		return nil, fmt.Errorf("decoding histogram: %w", err)
	}
	raw := d.raw[:m]
	if len(raw) < 8 {
		return nil, errors.New("decoding histogram: too short")
	}
	if int32(binary.BigEndian.Uint32(raw))&^0xf0 != compressedCookie {
		return nil, errors.New("decoding histogram: not a V2 compressed histogram")
	}
	clen := binary.BigEndian.Uint32(raw[4:])
	if uint64(clen) > uint64(len(raw)-8) {
		return nil, errors.New("decoding histogram: truncated")
	}
	d.src.Reset(raw[8 : 8+clen])
	if d.zr == nil {
		d.zr, err = zlib.NewReader(&d.src)
	} else {
		err = d.zr.(zlib.Resetter).Reset(&d.src, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("decoding histogram: %w", err)
	}
	var hdr [headerSize]byte
	if _, err := io.ReadFull(d.zr, hdr[:]); err != nil {
		return nil, fmt.Errorf("decoding histogram header: %w", err)
	}
	if int32(binary.BigEndian.Uint32(hdr[0:]))&^0xf0 != payloadCookie {
		return nil, errors.New("decoding histogram: not a V2 payload")
	}
	plen := int64(int32(binary.BigEndian.Uint32(hdr[4:])))
	sig := int32(binary.BigEndian.Uint32(hdr[12:]))
	lo := int64(binary.BigEndian.Uint64(hdr[16:]))
	hi := int64(binary.BigEndian.Uint64(hdr[24:]))
	ratio := math.Float64frombits(binary.BigEndian.Uint64(hdr[32:]))
	if sig != sigFigs || lo != lowest || hi != highest || (ratio != 1 && ratio != 0) {
		return nil, fmt.Errorf("%w: got %d…%d with %d digits", ErrGeometry, lo, hi, sig)
	}
	if plen < 0 || plen > int64(countsLen)*9 {
		return nil, fmt.Errorf("decoding histogram: payload length %d out of range", plen)
	}
	if cap(d.payload) < int(plen) {
		d.payload = make([]byte, plen)
	}
	p := d.payload[:plen]
	if _, err := io.ReadFull(d.zr, p); err != nil {
		return nil, fmt.Errorf("decoding histogram payload: %w", err)
	}
	return p, nil
}

// next reads one zig-zag LEB128 value (at most 9 bytes, the 9th holding
// 8 bits) at p[pos:]; ok is false when the payload ends inside it.
func next(p []byte, pos int) (v int64, n int, ok bool) {
	var u uint64
	var shift uint
	for k := 0; k < 9; k++ {
		if pos+k >= len(p) {
			return 0, 0, false
		}
		b := p[pos+k]
		if k == 8 {
			u |= uint64(b) << 56
			return int64(u>>1) ^ -int64(u&1), 9, true
		}
		u |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return int64(u>>1) ^ -int64(u&1), k + 1, true
		}
		shift += 7
	}
	return 0, 0, false // unreachable
}

var (
	errTruncated = errors.New("decoding histogram: truncated count")
	errZeroRun   = errors.New("decoding histogram: zero run beyond the geometry")
	errBeyond    = errors.New("decoding histogram: count beyond the geometry")
	errOverflow  = errors.New("decoding histogram: total count overflows")
)

// Decode replaces h's contents with the encoded histogram s ("" is empty).
func (d *Decoder) Decode(s string, h *Hist) error {
	h.Reset()
	if s == "" {
		return nil
	}
	p, err := d.payloadOf(s)
	if err != nil {
		return err
	}
	// The hot loop of the gates: most values are one byte (a count below
	// 64 or a short zero run), so that case is decoded inline.
	var idx, total int64
	for pos := 0; pos < len(p); {
		var v int64
		if b := p[pos]; b < 0x80 {
			v = int64(b>>1) ^ -int64(b&1)
			pos++
		} else {
			n := 0
			var ok bool
			if v, n, ok = next(p, pos); !ok {
				h.Reset()
				return errTruncated
			}
			pos += n
		}
		if v < 0 {
			if v == math.MinInt64 || -v > int64(countsLen)-idx {
				h.Reset()
				return errZeroRun
			}
			idx -= v
			continue
		}
		if idx >= int64(countsLen) {
			h.Reset()
			return errBeyond
		}
		if v > 0 {
			h.idx = append(h.idx, int32(idx))
			h.cnt = append(h.cnt, v)
			if total += v; total < 0 {
				h.Reset()
				return errOverflow
			}
		}
		idx++
	}
	h.total = total
	return nil
}

// AddTo decodes s and adds it to the accumulator ("" adds nothing). On a
// malformed histogram the accumulator is left as it was.
func (d *Decoder) AddTo(s string, a *Acc) error {
	if err := d.Decode(s, &d.scratch); err != nil {
		return err
	}
	a.AddHist(&d.scratch)
	return nil
}
