##@ Conformance (the public cache-tests suite, vendored under sidecar/test/conformance/cache-tests)

CONFORMANCE := node --conditions=source --import tsx sidecar/test/conformance/conformance.ts

.PHONY: test-conformance
test-conformance: deps ## cache-tests against the sidecar (real Redis); fails when a required test of the baseline regresses (a tier of make test)
	npx vitest run --project conformance

.PHONY: conformance-baseline
conformance-baseline: deps ## Re-run cache-tests against the sidecar and rewrite its baseline (expectations.json, results/apicache.json)
	$(CONFORMANCE) baseline

.PHONY: conformance-compare
conformance-compare: deps ## Run cache-tests against nginx and Varnish installed here (apt-get install nginx-light varnish)
	sidecar/test/conformance/local/compare-local.sh

.PHONY: conformance-report
conformance-report: deps ## Required tests passed by group: the sidecar, nginx and Varnish (local and published)
	$(CONFORMANCE) report
