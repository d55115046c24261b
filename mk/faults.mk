##@ Faults (issue #15: one load through one sidecar while its dependencies fail; docs/operations.md)

.PHONY: test-faults
test-faults: deps ## Fault suite: Redis killed/slow/full, a Redis Cluster failover, upstream down/hanging/truncating, an invalid policy, a sidecar restart, under load; prints a table (a tier of make test)
	npx vitest run --project faults
