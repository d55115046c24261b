# The operator (CachePolicy controller + sidecar injection webhook). See docs/operator.md.

##@ Operator

# Out of cluster against any cluster: make run-operator KUBECONFIG=~/.kube/config (or after make cluster-up).
OPERATOR_KUBECONFIG ?= $(or $(KUBECONFIG),.cache/test-cluster/kubeconfig)
OPERATOR_NAMESPACE ?= apicache-system
OPERATOR_WEBHOOK_PORT ?= 9443
OPERATOR_ARGS ?=

.PHONY: run-operator
run-operator: deps ## Run the operator from source outside a cluster (KUBECONFIG=…; registers its webhook at https://127.0.0.1:9443)
	npx tsx --conditions=source operator/src/main.ts --kubeconfig $(OPERATOR_KUBECONFIG) \
	  --namespace $(OPERATOR_NAMESPACE) --metrics-listen 127.0.0.1:8080 \
	  --webhook-listen 127.0.0.1:$(OPERATOR_WEBHOOK_PORT) --webhook-url https://127.0.0.1:$(OPERATOR_WEBHOOK_PORT) \
	  $(OPERATOR_ARGS)

# The issue #13 acceptance scenario by default (about 10 minutes); BENCH_OPERATOR_ARGS="--quick" for
# 500 policies, "--cpu-prof" or "--heap-prof" to profile the operator, "--help" for every flag.
BENCH_OPERATOR_ARGS ?=

.PHONY: bench-operator
bench-operator: deps tools ## Operator benchmark (5,000 policies and 10,000 pods: Ready time, peak RSS, webhook p99, resync writes); writes load-tests/results.md
	npx tsx --conditions=source operator/bench/operator-bench.ts $(BENCH_OPERATOR_ARGS)
