# The L1-hit hot path (issue #16, ADR 0027; sidecar/bench/hotpath-bench.ts): the bare node:http floor and the
# sidecar's L1 hit side by side with autocannon, their req/s ratio, then each under --cpu-prof: flame graphs
# (load-tests/profiles/*.svg) and top self-time functions in load-tests/profiles/hotpath.md. A benchmark, not
# a test. E.g. BENCH_HOTPATH_ARGS="--baseline .bench-baseline --no-profile" for an A/B against an older checkout.
BENCH_HOTPATH_ARGS ?= --duration 4 --rounds 4 --connections 16 --profile-seconds 8

##@ Benchmarks

.PHONY: bench-hotpath
bench-hotpath: deps ## L1-hit hot path: sidecar vs bare node:http req/s ratio, then --cpu-prof flame graphs; writes load-tests/profiles/
	npx tsx --conditions=source sidecar/bench/hotpath-bench.ts $(BENCH_HOTPATH_ARGS)
