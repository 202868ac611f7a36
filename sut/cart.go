package sut

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"

	"lab/lang/shopknobs"
)

// Bounds that keep the shop's own memory flat under any load, so that a leak
// the leak hunter finds is one the leak_per_request knob put there.
const (
	maxOpenCarts = 100_000 // beyond this the oldest open cart is forgotten
	maxCartLines = 50
	maxQty       = 1000
	maxBody      = 64 << 10
)

type cartLine struct {
	product *Product
	qty     int
}

type cart struct {
	id    int64
	mu    sync.Mutex
	lines []cartLine
}

// cartStore holds open carts in shards, so concurrent users rarely share a lock.
type cartStore struct {
	next   atomic.Int64
	open   atomic.Int64
	shards [64]cartShard
}

func (cs *cartStore) init() {
	for i := range cs.shards {
		cs.shards[i].m = make(map[int64]*cart)
	}
}

type cartShard = struct {
	mu sync.Mutex
	m  map[int64]*cart
}

// shard is where cart id lives; any int64 a client sends maps to one.
func (cs *cartStore) shard(id int64) *cartShard {
	return &cs.shards[uint64(id)%uint64(len(cs.shards))]
}

func (cs *cartStore) create() *cart {
	c := &cart{id: cs.next.Add(1)}
	sh := cs.shard(c.id)
	sh.mu.Lock()
	sh.m[c.id] = c
	sh.mu.Unlock()
	cs.open.Add(1)
	// Cart ids are sequential, so the oldest cart still possibly open is
	// id - maxOpenCarts: forgetting it keeps the store bounded in O(1).
	if old := c.id - maxOpenCarts; old > 0 {
		cs.take(old)
	}
	return c
}

func (cs *cartStore) get(id int64) *cart {
	sh := cs.shard(id)
	sh.mu.Lock()
	c := sh.m[id]
	sh.mu.Unlock()
	return c
}

// take removes the cart and returns it, or nil if it is not open.
func (cs *cartStore) take(id int64) *cart {
	sh := cs.shard(id)
	sh.mu.Lock()
	c := sh.m[id]
	if c != nil {
		delete(sh.m, id)
	}
	sh.mu.Unlock()
	if c != nil {
		cs.open.Add(-1)
	}
	return c
}

type cartLineJSON struct {
	ProductID int    `json:"product_id"`
	Name      string `json:"name"`
	Qty       int    `json:"qty"`
	Price     Money  `json:"price"`
}

type cartJSON struct {
	CartID int64          `json:"cart_id"`
	Items  []cartLineJSON `json:"items"`
	Total  Money          `json:"total"`
}

func (c *cart) snapshot() cartJSON {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := cartJSON{CartID: c.id, Items: make([]cartLineJSON, 0, len(c.lines))}
	for _, l := range c.lines {
		out.Items = append(out.Items, cartLineJSON{l.product.ID, l.product.Name, l.qty, l.product.Price})
		out.Total += l.product.Price * Money(l.qty)
	}
	return out
}

type addToCartRequest struct {
	CartID    *int64 `json:"cart_id"`
	ProductID *int64 `json:"product_id"`
	Qty       *int64 `json:"qty"`
}

// addToCart is POST /cart: {} opens an empty cart, {product_id, qty} opens
// one with that line, and cart_id adds the line to an open cart. With a
// session and no cart_id, the line goes to the session's own cart.
func (s *Shop) addToCart(w http.ResponseWriter, r *http.Request, sess *session) int {
	var req addToCartRequest
	if err := decodeBody(w, r, &req, `{"product_id": 1, "qty": 2}`); err != nil {
		return writeError(w, http.StatusBadRequest, err.Error())
	}
	var p *Product
	qty := 1
	if req.Qty != nil {
		if req.ProductID == nil {
			return writeError(w, http.StatusBadRequest, "qty given without product_id")
		}
		if *req.Qty < 1 || *req.Qty > maxQty {
			return writeError(w, http.StatusBadRequest, fmt.Sprintf("qty must be from 1 to %d, got %d", maxQty, *req.Qty))
		}
		qty = int(*req.Qty)
	}
	if req.ProductID != nil {
		id := *req.ProductID
		if id < 1 {
			return writeError(w, http.StatusBadRequest, "product_id must be a positive integer")
		}
		if p = s.catalog.product(clampInt(id)); p == nil {
			return writeError(w, http.StatusNotFound, "no product "+strconv.FormatInt(id, 10))
		}
	}
	var c *cart
	if req.CartID != nil {
		if c = s.carts.get(*req.CartID); c == nil {
			return writeError(w, http.StatusNotFound, "no open cart "+strconv.FormatInt(*req.CartID, 10))
		}
	} else if sess != nil {
		c = s.sessionCart(sess)
	} else {
		c = s.carts.create()
	}
	if p != nil {
		if err := c.add(p, qty); err != nil {
			return writeError(w, http.StatusConflict, err.Error())
		}
	}
	return writeJSON(w, http.StatusOK, c.snapshot())
}

func (c *cart) add(p *Product, qty int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.lines {
		if c.lines[i].product == p {
			if c.lines[i].qty+qty > maxQty {
				return fmt.Errorf("cart %d would hold more than %d of product %d", c.id, maxQty, p.ID)
			}
			c.lines[i].qty += qty
			return nil
		}
	}
	if len(c.lines) >= maxCartLines {
		return fmt.Errorf("cart %d is full (%d different products)", c.id, maxCartLines)
	}
	c.lines = append(c.lines, cartLine{p, qty})
	return nil
}

func (s *Shop) getCart(w http.ResponseWriter, r *http.Request) int {
	raw := r.URL.Path[len("/cart/"):]
	id, ok := parseID(raw)
	if !ok {
		return writeError(w, http.StatusBadRequest, "cart id must be a positive integer, got "+strconv.Quote(truncate(raw, 40)))
	}
	c := s.carts.get(id)
	if c == nil {
		return writeError(w, http.StatusNotFound, "no open cart "+strconv.FormatInt(id, 10))
	}
	return writeJSON(w, http.StatusOK, c.snapshot())
}

type checkoutRequest struct {
	CartID *int64 `json:"cart_id"`
}

type orderJSON struct {
	OrderID int64 `json:"order_id"`
	Total   Money `json:"total"`
}

// wrongOrderJSON is what a wrong answer looks like: 200 OK, a total, and no
// order — the shape a response check has to catch.
type wrongOrderJSON struct {
	Total  Money  `json:"total"`
	Status string `json:"status"`
}

// checkout is POST /checkout. In order: bad body 400, unknown cart 404, empty
// cart 409; then a wrong_rate share answers at once without an order; the
// rest wait their latency, queue on the shared lock (contention), leak
// leak_per_request bytes and place the order, which closes the cart. With a
// session, no cart_id (and no body at all) checks out the session's cart.
func (s *Shop) checkout(w http.ResponseWriter, r *http.Request, k *Knobs, n uint64, sess *session) int {
	var req checkoutRequest
	if err := decodeBodyOrEmpty(w, r, &req, `{"cart_id": 1}`, sess != nil); err != nil {
		return writeError(w, http.StatusBadRequest, err.Error())
	}
	if req.CartID == nil && sess != nil {
		id := sess.cartID.Load()
		if id == 0 || s.carts.get(id) == nil {
			return writeError(w, http.StatusNotFound, "this session has no open cart; POST /cart opens one")
		}
		req.CartID = &id
	}
	if req.CartID == nil {
		return writeError(w, http.StatusBadRequest, `cart_id is missing; send {"cart_id": 1}`)
	}
	id := *req.CartID
	c := s.carts.get(id)
	if c == nil {
		return writeError(w, http.StatusNotFound, "no open cart "+strconv.FormatInt(id, 10))
	}
	snap := c.snapshot()
	if len(snap.Items) == 0 {
		return writeError(w, http.StatusConflict, "cart "+strconv.FormatInt(id, 10)+" is empty")
	}
	if k.WrongRate > 0 && s.uniform(n, drawWrong) < k.WrongRate {
		return writeJSON(w, http.StatusOK, wrongOrderJSON{Total: snap.Total, Status: "ok"})
	}
	if s.carts.take(id) == nil {
		return writeError(w, http.StatusNotFound, "no open cart "+strconv.FormatInt(id, 10)) // checked out meanwhile
	}
	snap = c.snapshot() // lines added between the look and the take count too
	s.sleep(r.Context(), s.delay(routeCheckout, k, n))
	if k.Contention > 0 {
		s.checkoutLock.Lock()
		s.sleep(r.Context(), k.Contention)
		s.checkoutLock.Unlock()
	}
	if k.LeakRoute == "" {
		leak(k.LeakPerRequest)
	}
	return writeJSON(w, http.StatusOK, orderJSON{OrderID: s.orders.Add(1), Total: snap.Total})
}

// decodeBody reads one JSON object with only known fields, or says what is
// wrong with the body in words a client can act on.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, example string) error {
	return decodeBodyOrEmpty(w, r, v, example, false)
}

// decodeBodyOrEmpty is decodeBody that, when emptyOK, takes an empty body
// for {}.
func decodeBodyOrEmpty(w http.ResponseWriter, r *http.Request, v any, example string, emptyOK bool) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fmt.Errorf("body is larger than %d bytes", maxBody)
		}
		return fmt.Errorf("reading body: %v", err)
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		if emptyOK {
			return nil
		}
		return fmt.Errorf("empty body; send a JSON object like %s", example)
	}
	if trimmed[0] != '{' {
		return fmt.Errorf("body must be a JSON object like %s", example)
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return fmt.Errorf("field %q has the wrong type (%s given, %s expected); send a JSON object like %s",
				typeErr.Field, typeErr.Value, jsonKind(typeErr.Type), example)
		}
		return fmt.Errorf("body is not valid JSON (%v); send a JSON object like %s", err, example)
	}
	if dec.More() {
		return fmt.Errorf("body has data after the JSON object; send one object like %s", example)
	}
	return nil
}

// jsonKind names a Go type the way a JSON client thinks of it.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "integer"
	case reflect.Float64, reflect.Float32:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return t.Kind().String()
}

func clampInt(v int64) int {
	if v > int64(shopknobs.MaxProducts) {
		return shopknobs.MaxProducts + 1
	}
	return int(v)
}

// retained holds every leaked buffer for the life of the process: it is what
// leak_per_request leaks, and what a leak hunter should find.
var (
	retainedMu    sync.Mutex
	retained      [][]byte
	retainedBytes atomic.Int64
)

// leak keeps n bytes forever. Writing one byte per page makes the kernel back
// every page, so resident memory grows by n, not just the virtual size.
func leak(n int64) {
	if n <= 0 {
		return
	}
	b := make([]byte, n)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 0xAB
	}
	b[len(b)-1] = 0xAB
	retainedMu.Lock()
	retained = append(retained, b)
	retainedMu.Unlock()
	retainedBytes.Add(n)
}

// churnSink keeps the compiler from proving churn's work useless.
var churnSink atomic.Uint64

// churn allocates n bytes of garbage in 8 KiB pieces that die before the
// request ends: heap allocation climbs and falls with every GC cycle while the
// live heap stays flat — a sawtooth that only a naive leak detector calls a leak.
func churn(n int64) {
	const piece = 8 << 10
	var sum uint64
	for n > 0 {
		size := min(n, piece)
		b := make([]byte, size)
		for i := 0; i < len(b); i += 512 {
			b[i] = byte(i >> 9)
		}
		sum += uint64(b[len(b)-1])
		n -= size
	}
	if sum != 0 {
		churnSink.Add(sum)
	}
}
