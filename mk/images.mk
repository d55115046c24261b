# Container images for the single-node test cluster, built here with buildah from the same Dockerfiles
# `docker build` uses (NODE_IMAGE build argument): no registry, no Docker engine. hack/images.sh does
# the work; see docs/development.md ("Images without a registry").

##@ Images

.PHONY: images
images: ## Build apicache/{sidecar,operator,demo-api,redis}:dev with buildah (no registry) and their archives for containerd (root; cold ~2 min)
	@hack/images.sh build

.PHONY: images-list
images-list: ## List the image archives: the name containerd gives each, size, image ID
	@hack/images.sh list
