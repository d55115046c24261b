##@ Sidecar

SIDECAR_POLICY ?= crds/examples/booking-api.yaml
SIDECAR_UPSTREAM ?= http://127.0.0.1:8080
SIDECAR_LISTEN ?= 127.0.0.1:8081

.PHONY: run-sidecar
run-sidecar: deps ## Run the sidecar from source (SIDECAR_POLICY, SIDECAR_UPSTREAM, SIDECAR_LISTEN; REDIS_URL optional)
	node --conditions=source --import tsx sidecar/src/main.ts --policy $(SIDECAR_POLICY) \
	  --upstream $(SIDECAR_UPSTREAM) --listen $(SIDECAR_LISTEN) --log-level debug \
	  $(if $(REDIS_URL),--redis $(REDIS_URL),)

.PHONY: test-sidecar
test-sidecar: deps ## Sidecar unit and integration tests (real redis-server)
	npx vitest run --project unit sidecar/
	npx vitest run --project integration sidecar/

.PHONY: test-saturated
test-saturated: deps ## Sidecar integration tests with every core saturated by busy loops (APICACHE_BUSY_LOOPS=n to override)
	APICACHE_SATURATED=1 npx vitest run --project saturated
