// Command target is the benchmark target: a fasthttp server answering every
// request with the same 60 bytes, so that it is never the bottleneck of a
// generator comparison (docs/BENCHMARKS.md measures every generator against it).
package main

import (
	"flag"
	"log"

	"github.com/valyala/fasthttp"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:9099", "address to listen on")
	flag.Parse()
	body := []byte("012345678901234567890123456789012345678901234567890123456789")
	session := []byte("sessionid=0123456789abcdefghijklmnopqrstuv; Path=/; HttpOnly; SameSite=Lax")
	s := &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			// Under /s/ every answer sets the session cookie again, as a
			// rolling session does: the dearest case for a cookie jar
			// (bench/plans/session.hcl), parsed and sent on every request.
			if p := ctx.Path(); len(p) > 2 && p[1] == 's' && p[2] == '/' {
				ctx.Response.Header.Set("Set-Cookie", string(session))
			}
			ctx.SetBody(body)
		},
		NoDefaultServerHeader: true,
		NoDefaultDate:         true,
		Concurrency:           1 << 20,
	}
	log.Fatal(s.ListenAndServe(*addr))
}
