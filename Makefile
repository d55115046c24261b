# apicache — `make` (or `make help`) lists every target with its one-line description.
# Targets are documented by a `## ` comment on the target line; fragments in mk/*.mk add their own.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# Prerequisites of `make test`; fragments in mk/*.mk append to it (the tools, the images). The fragments
# are read at the end of this file, so the `test` rule names it with secondary expansion ($$): expanded
# when the rule runs, after every fragment has appended, not when make first reads the rule.
TEST_PREREQS :=
.SECONDEXPANSION:

##@ General

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} \
	  /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5); next } \
	  /^[a-zA-Z0-9_-]+:.*## / { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

##@ Development

.PHONY: deps
deps: node_modules/.apicache-installed ## Install npm packages (npm ci) and system packages (redis-server, prometheus)
	@hack/ensure-system-deps.sh

node_modules/.apicache-installed: package-lock.json package.json */package.json
	@echo ">> npm ci"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: build
build: deps ## Compile every workspace to dist/
	npm run build

.PHONY: lint
lint: deps ## Lint and format-check with Biome; no export nothing uses (hack/dead-code.ts)
	npm run lint
	npx tsx --conditions=source hack/dead-code.ts

.PHONY: typecheck
typecheck: deps ## Type-check every workspace, tests included
	npm run typecheck

.PHONY: dead-code
dead-code: deps ## List exports nothing imports or uses (offline, hack/dead-code.ts); fails when there is one
	npx tsx --conditions=source hack/dead-code.ts

.PHONY: manifests
manifests: deps ## Regenerate every generated file (CRD YAML, chart copies, dashboard, rules)
	npx tsx --conditions=source hack/generate.ts

##@ Tests

.PHONY: test-unit
test-unit: deps ## Unit tests (pure logic)
	npx vitest run --project unit

.PHONY: test-integration
test-integration: deps ## Integration tests (real redis-server, Redis Cluster, HTTP servers)
	npx vitest run --project integration

.PHONY: test
test: deps lint typecheck build $$(TEST_PREREQS) ## Everything: lint, typecheck, build, unit, integration, e2e and cluster tiers
	npx vitest run

-include mk/*.mk
