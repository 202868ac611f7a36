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
	s := &fasthttp.Server{
		Handler:               func(ctx *fasthttp.RequestCtx) { ctx.SetBody(body) },
		NoDefaultServerHeader: true,
		NoDefaultDate:         true,
		Concurrency:           1 << 20,
	}
	log.Fatal(s.ListenAndServe(*addr))
}
