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
