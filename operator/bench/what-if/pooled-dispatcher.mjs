/**
 * A what-if for the findings, never for the acceptance figures: `--what-if pooled-dispatcher`
 * `--import`s this into the operator process. client-node 2.0.1's KubeConfig.createDispatcher builds
 * a new undici Agent (so a new TCP connection and TLS handshake, with a new SecureContext) for
 * every API request; this gives every KubeConfig one Agent per cluster and user, reused, as the
 * proposed fix in operator/src/kube/kube-config.ts would. Same module instance as the operator's
 * (one hoisted node_modules), so patching the prototype reaches its clients.
 */
import { KubeConfig } from "@kubernetes/client-node";

const original = KubeConfig.prototype.createDispatcher;
const pools = new WeakMap();
KubeConfig.prototype.createDispatcher = function createPooledDispatcher(cluster, agentOptions) {
  const key = JSON.stringify([cluster?.name, cluster?.server, this.getCurrentUser()?.name]);
  let byKey = pools.get(this);
  if (!byKey) {
    byKey = new Map();
    pools.set(this, byKey);
  }
  if (!byKey.has(key)) byKey.set(key, original.call(this, cluster, agentOptions));
  return byKey.get(key);
};
