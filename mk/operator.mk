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

.PHONY: bench-operator
bench-operator: deps tools ## Operator benchmark (500 policies to Ready; webhook latency at 50 concurrent); writes load-tests/results.md
	npx tsx --conditions=source operator/bench/operator-bench.ts
