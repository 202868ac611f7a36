// Package memory samples the memory of the system under test during a run,
// once a second, for the leak hunter (gates/leak, docs/STATISTICS.md).
//
// A Sampler reads one figure from one source:
//
//	sut        the bundled shop: go_gc_heap_live_bytes and the GC cycle counter
//	           from its /metrics; if that cannot be read at the first sample,
//	           RssAnon of its PID, else its process_resident_memory_bytes
//	pid        /proc/PID/status RssAnon (VmRSS on kernels without it)
//	cgroup     memory.stat anon of a cgroup v2 directory (total_rss on v1)
//	container  a Docker container's memory, from the engine's stats API
//	metrics    one metric of a Prometheus text endpoint, summed over its series
//
// Record samples a Sampler on a fixed schedule in its own goroutine and
// Stop turns what it read into the Run's result.MemorySeries:
//
//	s, err := memory.NewSampler(plan.Leak.Memory, memory.SUTInfo{PID: shop.PID(), BaseURL: shop.BaseURL()})
//	if err != nil { … exit 2: the source is invalid }
//	if _, err := memory.Probe(ctx, s); err != nil { … exit 2 (a *PlanError) or 3, before any load }
//	rec := memory.Record(ctx, s, run.Start, memory.DefaultInterval, engine.Completed)
//	… the run …
//	run.Memory = rec.Stop() // the samples, and how many readings failed and why
//
// Series kinds (result.MemorySeries.Kind) are the Kind constants; all but
// KindMetric are names leak.ParseSource knows.
package memory
