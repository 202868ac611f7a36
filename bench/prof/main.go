// Command prof runs a plan in-process under the CPU profiler, to find where
// the engine spends its time per request. Not part of lab.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"lab/lang"
	"lab/runtime/engine"
)

func main() {
	out := flag.String("cpuprofile", "cpu.prof", "profile output")
	memAt := flag.Duration("memstats-at", 0, "print memory statistics this long into the run")
	heapOut := flag.String("heapprofile", "", "write a heap profile at -memstats-at")
	flag.Parse()
	p, diags := lang.Load(flag.Arg(0), lang.Options{Vars: flag.Args()[1:]})
	if diags.HasErrors() {
		log.Fatal(diags.Error())
	}
	e, err := engine.New(engine.Options{Plan: p})
	if err != nil {
		log.Fatal(err)
	}
	if *memAt > 0 {
		go func() {
			time.Sleep(*memAt)
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			fmt.Printf("goroutines %d heap-inuse %d KiB stack-inuse %d KiB sys %d KiB heap-objects %d\n",
				runtime.NumGoroutine(), m.HeapInuse>>10, m.StackInuse>>10, m.Sys>>10, m.HeapObjects)
			if *heapOut != "" {
				hf, _ := os.Create(*heapOut)
				pprof.WriteHeapProfile(hf)
				hf.Close()
			}
		}()
	}
	f, _ := os.Create(*out)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	pprof.StartCPUProfile(f)
	r, err := e.Run(context.Background())
	pprof.StopCPUProfile()
	runtime.ReadMemStats(&m1)
	if err != nil {
		log.Fatal(err)
	}
	var n int64
	for _, q := range r.Requests {
		n += q.Count
	}
	fmt.Printf("%d requests, %.1f cpu-µs/request, %.2f allocs/request, %.0f B/request, %d GCs\n", n, r.Generator.CPUSecs*1e6/float64(n),
		float64(m1.Mallocs-m0.Mallocs)/float64(n), float64(m1.TotalAlloc-m0.TotalAlloc)/float64(n), m1.NumGC-m0.NumGC)
}
