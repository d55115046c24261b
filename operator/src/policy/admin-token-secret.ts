import { randomBytes } from "node:crypto";
import { ADMIN_TOKEN_KEY, adminTokenSecretName } from "../constants.js";
import { ownedMetadata, type PolicyRef } from "./render-config.js";

/**
 * The Secret holding a policy's admin API token (`/invalidate`, `/warm`, `/stats` on its sidecars).
 * Owned by the CachePolicy (garbage-collected with it). Created once and never rewritten by the
 * operator: the token is random, so re-applying would rotate it on every reconcile. Pure, given the
 * token.
 */
export function adminTokenSecretManifest(policy: PolicyRef, token: string) {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: ownedMetadata(policy, adminTokenSecretName(policy.name)),
    type: "Opaque",
    stringData: { [ADMIN_TOKEN_KEY]: token },
  };
}

/** 256 random bits, base64url: fits a header, no shell quoting needed. */
export function newAdminToken(): string {
  return randomBytes(32).toString("base64url");
}
