# Demo and load tests (load-tests/): the demo booking API, the side-by-side harness, and the k6 scripts'
# type-check. See docs/load-testing.md.

LOAD_TESTS_NODE := node --conditions=source --import tsx
# Extra flags for the harness, e.g. make bench BENCH_ARGS="--scenarios mixed --store memory".
BENCH_ARGS ?=
DEMO_ARGS ?=
# e.g. make bench-capacity BENCH_CAPACITY_ARGS="--quick --no-results" (--help lists every flag).
BENCH_CAPACITY_ARGS ?=
# e.g. make bench-cluster BENCH_CLUSTER_ARGS="--scenarios read-only --duration 30 --no-results".
BENCH_CLUSTER_ARGS ?=

##@ Demo and load tests

.PHONY: demo
demo: deps ## Start the demo API and the sidecar, run a short load directly and through the sidecar, print the gain
	@$(LOAD_TESTS_NODE) load-tests/src/demo/main.ts $(DEMO_ARGS)

.PHONY: bench
bench: deps ## Side-by-side load test (read-only and mixed scenarios, real Redis); writes load-tests/results.md
	@$(LOAD_TESTS_NODE) load-tests/src/harness/main.ts $(BENCH_ARGS)

.PHONY: bench-capacity
bench-capacity: deps ## Capacity search, direct vs sidecar (p95 SLO, open model), equal-load table, SQL statements saved; writes load-tests/results.md
	@$(LOAD_TESTS_NODE) load-tests/src/harness/capacity-main.ts $(BENCH_CAPACITY_ARGS)

# cluster-demo (mk/cluster.mk) first: the cluster, the images, the chart and the demo, as `make cluster-demo`
# leaves them; the Job then runs there, and everything stays up afterwards (`make cluster-down`).
.PHONY: bench-cluster
bench-cluster: cluster-demo ## The harness as a Job in the test cluster (root): demo API direct vs through its injected sidecar; writes load-tests/results.md
	@$(LOAD_TESTS_NODE) load-tests/src/harness/cluster-bench-main.ts $(BENCH_CLUSTER_ARGS)

.PHONY: bench-write-pacing
bench-write-pacing: deps ## Writes direct vs through the sidecar, back to back and with idle pauses (ADR 0006)
	@$(LOAD_TESTS_NODE) load-tests/src/harness/write-pacing.ts $(or $(SIZE),small)

.PHONY: demo-api
demo-api: deps ## Run the demo booking API alone on 127.0.0.1:8080 (SIZE=small|default|large)
	@$(LOAD_TESTS_NODE) load-tests/src/demo-api/main.ts --listen 127.0.0.1:8080 --size $(or $(SIZE),small)

.PHONY: k6-typecheck
k6-typecheck: deps ## Type-check the k6 scripts (load-tests/k6) against @types/k6
	npx tsc -p load-tests/k6/tsconfig.json

.PHONY: calibrate
calibrate: deps ## Measure the demo API's uncached latency per endpoint at the default size; writes load-tests/results.md
	@$(LOAD_TESTS_NODE) load-tests/src/harness/calibrate.ts $(or $(SIZE),default)
