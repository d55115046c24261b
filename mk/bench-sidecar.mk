# Sidecar micro-benchmark (sidecar/bench/): floor vs upstream vs sidecar L1 hit / Redis hit / miss,
# side by side on loopback with autocannon. A benchmark, not a test: it prints a table and writes the
# "Sidecar micro-benchmark" section of load-tests/results.md. Needs redis-server (make deps).
BENCH_SIDECAR_ARGS ?= --duration 3 --rounds 3 --connections 16

##@ Benchmarks

.PHONY: bench-sidecar
bench-sidecar: deps ## Sidecar micro-benchmark (L1/Redis hits, misses vs a bare node:http floor); writes load-tests/results.md
	npx tsx --conditions=source sidecar/bench/sidecar-bench.ts $(BENCH_SIDECAR_ARGS)

.PHONY: bench-write-path
bench-write-path: deps ## Write-path benchmark: 400 invalidating writes one at a time, direct vs sidecar (L1 + Redis), p50/p95 delta and Redis round trips per write
	npx tsx --conditions=source sidecar/bench/write-path-bench.ts --writes 400 --entries 300

# Many replicas on one Redis (sidecar/bench/multi-bench.ts, issue #14): L1 vs Redis hits with 3 replicas,
# invalidation propagation to the other replicas' L1 (p50/p99 against the 5 ms target), the demo's mixed
# scenario with 3 replicas vs 1. Writes the "Many replicas (make bench-multi)" section of
# load-tests/results.md; fails only on a broken run. E.g. BENCH_MULTI_ARGS="--parts propagation --writes 2000".
BENCH_MULTI_ARGS ?=

.PHONY: bench-multi
bench-multi: deps ## Many replicas on one Redis: L1 vs Redis hits, invalidation propagation p50/p99, hit ratio 3 vs 1 replicas; writes load-tests/results.md
	npx tsx --conditions=source sidecar/bench/multi-bench.ts $(BENCH_MULTI_ARGS)

# Soak (issue #15, sidecar/bench/soak.ts, ADR 0023): one sidecar on a real Redis under a steady mixed load
# for SOAK_MINUTES, a fault every few minutes; samples RSS, heap, event-loop delay, descriptors and sockets,
# fails if they grow past the fitted bounds. Writes load-tests/soak.svg and the "Soak (make soak)" section of
# load-tests/results.md. Not in CI. E.g. make soak SOAK_MINUTES=3 SOAK_ARGS="--no-write".
SOAK_MINUTES ?= 30
SOAK_ARGS ?=

.PHONY: soak
soak: deps ## Soak: one sidecar, mixed load and a fault every few minutes for SOAK_MINUTES (30); fails on memory/descriptor growth; writes load-tests/soak.svg and results.md
	npx tsx --conditions=source sidecar/bench/soak.ts --minutes $(SOAK_MINUTES) $(SOAK_ARGS)
