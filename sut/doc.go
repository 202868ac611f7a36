// Package sut is the shop that lab ships as its own system under test: a
// small shop API whose misbehaviours are realistic and switchable, so that
// every gate can be shown failing for the right reason and passing when the
// fault is off.
//
// # Routes
//
//	GET  /                 home page (HTML)
//	GET  /products?page=N  a page of 20 products (JSON); page past the end → empty list
//	GET  /products/{id}    one product; unknown id → 404, malformed id → 400
//	POST /cart             {"product_id": 1, "qty": 2} opens a cart → {"cart_id", "items", "total"};
//	                       {} opens an empty one; "cart_id" adds to an open cart
//	GET  /cart/{id}        an open cart; unknown → 404
//	POST /checkout         {"cart_id": 1} → {"order_id", "total"}; unknown cart → 404,
//	                       empty cart → 409; the order closes the cart
//	GET  /healthz          {"status":"ok"}
//	GET  /metrics          Prometheus text or OpenMetrics
//	GET/PUT/POST /admin/knobs  only when an admin token is set (see KnobsJSON)
//
// Bad bodies and ids get 400 with {"error": "..."}; other paths 404, wrong
// methods 405, all as JSON. The catalogue (ids 1..products) is generated from
// the seed. Open carts are capped at 100,000 (the oldest is forgotten), so the
// shop's own memory stays flat: a leak found is one a knob put there.
//
// # Knobs
//
// See Knobs and KnobSpecs; the table of knobs (names, kinds, ranges, help)
// is lang/shopknobs, which the plan language reads too. Faults apply to the six shop routes, never to
// /healthz, /metrics or /admin. A request's random decisions are hashed from
// the seed and its arrival number, so a run with the same seed and the same
// request order decides the same. In order, a shop request:
//
//   - allocates gc_churn bytes of garbage that dies with the request;
//   - fails fast with 500 for an error_rate share (before any other work);
//   - waits its latency: the route's base (route_latency, else latency),
//     ± uniform latency_jitter, times tail_factor for a tail_ratio share;
//   - for POST /checkout only, after the body and cart checks: a wrong_rate
//     share answers 200 OK at once with a total and no order_id; the rest wait
//     their latency, hold the one shared checkout lock for contention (so
//     latency grows with concurrent checkouts), retain leak_per_request bytes
//     forever (every page written, so RSS grows) and place the order.
//
// # Metrics
//
// Stable names that lab's gates and the leak hunter read:
//
//	shop_http_requests_total{route,code}            counter
//	shop_http_request_duration_seconds{route,code}  histogram (classic buckets + native)
//	shop_knob{knob}                                 gauge per numeric knob (seconds, bytes, ratios)
//	shop_route_latency_seconds{route}               base latency in force per route
//	shop_info{listen,admin}                         1
//	shop_leaked_bytes                               bytes retained by leak_per_request
//	shop_open_carts, shop_orders_total
//	shop_cgroup_memory_bytes                        cgroup v2 memory.current (v1 memory.usage_in_bytes)
//	shop_cgroup_memory_anon_bytes                   cgroup v2 memory.stat anon (v1 total_rss)
//	                                                (both absent where no cgroup file is readable)
//	process_resident_memory_bytes                   and the rest of the process collector
//	go_gc_heap_live_bytes                           runtime/metrics /gc/heap/live:bytes
//	go_gc_cycles_total_gc_cycles_total              runtime/metrics /gc/cycles/total:gc-cycles
//	go_gc_heap_allocs_bytes_total                   runtime/metrics /gc/heap/allocs:bytes
//	go_memory_classes_heap_objects_bytes            runtime/metrics /memory/classes/heap/objects:bytes
//
// plus the other /gc/* runtime metrics and the go_memstats_* family.
// go_gc_heap_live_bytes is measured by each GC cycle, so it reads 0 until the
// first one; sizes are bytes and durations seconds throughout. The route
// label is one of the templates in Routes, "GET /healthz", "GET /metrics",
// "GET|PUT|POST /admin/knobs" or "other" — never a raw URL.
//
// # Running it
//
// `lab sut` (package main) reads flags and LAB_SUT_* variables into Knobs
// with Knobs.Set and calls Run. `lab apply` sets a plan's knobs the same way
// and runs the shop as a child with Start, which waits for the ready line
// (ReadyPrefix) and /healthz.
package sut
