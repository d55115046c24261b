# The test clusters: the e2e tier's control plane (etcd + kube-apiserver on loopback, started by the tests)
# and the real single-node cluster (`make cluster-up`, the cluster tier). Their binaries are built from Go
# modules or unpacked from npm packages into a per-user cache (hack/tools.sh); the node's runtime comes
# from Debian. See docs/development.md.

TEST_PREREQS += tools images

CLUSTER_CLI := npx tsx testkit/src/cluster/cli.ts

##@ Test clusters

.PHONY: tools
tools: ## Build the Kubernetes components and etcd, fetch helm3/helm4/kubectl, install containerd & co (cold: minutes; KUBE_VERSION=v1.31.4 for another release)
	@hack/tools.sh install

.PHONY: cluster-up
cluster-up: deps tools ## Start a real single-node cluster (root; idempotent); kubeconfig in .cache/test-cluster/kubeconfig
	@$(CLUSTER_CLI) up

.PHONY: cluster-down
cluster-down: ## Stop the cluster and leave the host as it was (no process, mount, namespace, link or node folder left)
	@$(CLUSTER_CLI) down

.PHONY: cluster-demo
cluster-demo: deps tools images ## The demo on the test cluster: cluster-up, images, helm install (bundled Redis), the demo API injected
	@$(CLUSTER_CLI) demo

.PHONY: test-e2e
test-e2e: deps tools ## End-to-end tests against a fresh kube-apiserver + etcd (started by the tests)
	npx vitest run --project e2e

.PHONY: test-cluster
test-cluster: deps tools images ## Cluster tier: the chart and the demo on a real single-node cluster (started and removed by the tests)
	npx vitest run --project cluster
