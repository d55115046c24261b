# Helm chart, Prometheus rules and container images. helm3/helm4 come from the tools cache
# (`make tools`, hack/tools.sh); promtool from the Debian prometheus package (`make deps`).

CHART_DIR := charts/apicache
IMAGE_REGISTRY ?= ghcr.io/apicache
IMAGE_TAG ?= $(shell node -p "require('./package.json').version" 2>/dev/null || echo dev)
DOCKER ?= docker

##@ Chart and monitoring

.PHONY: helm-lint
helm-lint: tools ## Lint the chart with helm 3 and helm 4 (--strict)
	@for h in helm3 helm4; do \
	  bin=$$(hack/tools.sh path $$h); echo ">> $$h lint"; "$$bin" lint --strict $(CHART_DIR); \
	done

.PHONY: helm-template
helm-template: tools ## Render the chart with every monitoring/Redis/certificate toggle on (prints YAML)
	@"$$(hack/tools.sh path helm4)" template apicache $(CHART_DIR) --namespace apicache-system \
	  --set monitoring.serviceMonitor.enabled=true,monitoring.podMonitor.enabled=true \
	  --set monitoring.prometheusRule.enabled=true,monitoring.dashboard.enabled=true \
	  --set redis.bundled.enabled=true,webhook.certificate.mode=cert-manager

.PHONY: rules-test
rules-test: deps ## Check the generated Prometheus rules and run their promtool unit tests
	npx tsx --conditions=source monitoring/src/cli/generate.ts --check
	promtool check rules monitoring/generated/apicache-rules.yaml
	promtool test rules monitoring/rules-tests/*.yaml

.PHONY: docker-build
docker-build: ## Build the sidecar and operator images (IMAGE_REGISTRY, IMAGE_TAG); needs a container engine
	@$(DOCKER) info >/dev/null 2>&1 || { \
	  echo "docker-build: '$(DOCKER)' cannot reach a container engine (is the daemon running? DOCKER=podman works too)" >&2; \
	  exit 1; }
	$(DOCKER) build -f sidecar/Dockerfile -t $(IMAGE_REGISTRY)/sidecar:$(IMAGE_TAG) .
	$(DOCKER) build -f operator/Dockerfile -t $(IMAGE_REGISTRY)/operator:$(IMAGE_TAG) .
