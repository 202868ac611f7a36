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
// and what a real web shop has, for cookie jars, logins, CSRF tokens,
// redirects and uploads (see "Logins and sessions"):
//
//	GET  /login            login form (HTML) + Set-Cookie csrftoken
//	POST /login            form login → 302 + Set-Cookie sessionid and a rotated csrftoken;
//	                       bad credentials → 200 and the form again; CSRF failure → 403
//	GET  /account          {"user", "session", "logins", "requests"}; no session → 302 /login?next=/account
//	POST /logout           ends the session (CSRF-checked) → 302 /login
//	GET  /cart             with a session: the session's cart; none open → 404
//	POST /upload           multipart/form-data → {"files": [{"field", "filename", "size", "sha256"}],
//	                       "fields": {name: value}}; not multipart or no file part → 400; over 10 MiB → 413
//	POST /echo             any body → {"content_type", "size", "sha256"} as received; over 10 MiB → 413
//	GET  /admin/sessions   only when an admin token is set: {"active", "sessions": [{"session",
//	                       "user", "requests", "created"}], "logins": {user: count}}
//
// Bad bodies and ids get 400 with {"error": "..."}; other paths 404, wrong
// methods 405, all as JSON. The catalogue (ids 1..products) is generated from
// the seed. Open carts are capped at 100,000 (the oldest is forgotten), so the
// shop's own memory stays flat: a leak found is one a knob put there.
//
// # Logins and sessions
//
// Logins follow Django's pattern. GET /login sets the cookie
// "csrftoken=TOKEN; Path=/; SameSite=Lax" (reusing the request's own if it
// is well formed) and puts the same TOKEN in the form's hidden input
// csrfmiddlewaretoken; the form's other fields are username, password and,
// when GET /login?next=PATH named one, next. POST /login takes
// application/x-www-form-urlencoded (anything else: 415; over 64 KiB: 413)
// and checks CSRF first: the csrftoken cookie must be there and 32 letters
// and digits, and the field csrfmiddlewaretoken — or, when it is empty, the
// header X-CSRFToken — must equal it; otherwise 403 with a JSON error
// naming what is missing or wrong. Any username matching
// ^[A-Za-z0-9_.@-]{1,64}$ logs in with the password "secret", so a test has
// as many users as it wants; other credentials get 200 and the form again
// saying "Please enter a correct username and password". A login answers
// 302 Found to next (the form field, else ?next= on the URL) when it is a
// path on this site ("/…", not "//…" nor "/\…"), else to /account, with
// two Set-Cookie headers: "sessionid=SID; Path=/; HttpOnly; SameSite=Lax"
// and a new csrftoken, rotated as Django does at login. A session the
// request already carried ends: a login always starts a fresh one.
//
// Tokens and session ids are 32 letters and digits from crypto/rand, never
// from the seed: they decide nothing, and a real shop's are unguessable.
// The CSRF check is stateless (double-submit), so the shop keeps no tokens.
//
// A request whose sessionid cookie names a live session carries that
// session, on any route, and counts as one of its requests (GET /account
// counts itself; the login that made it does not). GET /account without one
// answers 302 to /login?next=/account. POST /logout needs the same CSRF
// check as a login (the token in the form or the header), then the session
// (403 if none); it ends it, deletes the cookie (Max-Age=0) and answers
// 302 to /login. Sessions do not expire; at most 100,000 are kept (the
// oldest is forgotten) and login counts for at most 100,000 usernames.
//
// With a session, POST /cart without cart_id adds to the session's own cart,
// opened on first use and again after its checkout, and answers as ever;
// GET /cart shows it; POST /checkout with no cart_id (and {} or no body at
// all) checks it out. An explicit cart_id works as without a session, and
// a request without a valid session sees the cart API exactly as before
// (GET /cart is then 405).
//
// # Knobs
//
// See Knobs and KnobSpecs; the table of knobs (names, kinds, ranges, help)
// is lang/shopknobs, which the plan language reads too. Faults apply to the
// six shop routes (with or without a session), never to /healthz, /metrics,
// /admin, nor to the login, account, session-cart GET, upload and echo
// routes, so a plan's login step never fails for a fault meant for the shop;
// route_latency accepts only the six. A request's random decisions are
// hashed from the seed and its arrival number, so a run with the same seed
// and the same request order decides the same. In order, a shop request:
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
//	shop_logins_total{result}                       POST /login by result: ok, bad_credentials, csrf
//	shop_sessions_active                            sessions logged in and not out
//	shop_session_requests_total                     requests that carried a valid session
//	shop_http_in_flight_peak                        the most requests answered at once (/metrics left out)
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
// "GET|PUT|POST /admin/knobs", "GET /login", "POST /login", "GET /account",
// "POST /logout", "GET /cart", "POST /upload", "POST /echo",
// "GET /admin/sessions" or "other" — never a raw URL.
//
// # Running it
//
// `lab sut` (package main) reads flags and LAB_SUT_* variables into Knobs
// with Knobs.Set and calls Run. `lab apply` sets a plan's knobs the same way
// and runs the shop as a child with Start, which waits for the ready line
// (ReadyPrefix) and /healthz.
package sut
