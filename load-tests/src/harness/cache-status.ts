/**
 * Reads the sidecar's `Cache-Status` header (RFC 9211, cache name `apicache`) into the three classes
 * the table needs. Pure.
 *
 *   apicache; hit; ttl=42                              -> hit (also coalesced, stale-while-revalidate)
 *   apicache; fwd=stale; …; detail=stale-if-error      -> hit (answered from the cache)
 *   apicache; fwd=uri-miss; fwd-status=200; stored     -> miss
 *   apicache; fwd=bypass|method|request; …             -> bypass
 *   (no header: the request did not go through the sidecar)  -> none
 */
export type CacheClass = "hit" | "miss" | "bypass" | "none";

export function classifyCacheStatus(header: string | undefined): CacheClass {
  if (!header) return "none";
  const member = header
    .split(",")
    .map((m) => m.trim())
    .find((m) => m.split(";")[0]?.trim() === "apicache");
  if (!member) return "none";
  const params = member
    .split(";")
    .slice(1)
    .map((p) => p.trim());
  if (params.includes("hit")) return "hit";
  const fwd = params.find((p) => p.startsWith("fwd="))?.slice(4);
  if (fwd === "stale" && params.includes("detail=stale-if-error")) return "hit";
  if (fwd === "bypass" || fwd === "method" || fwd === "request") return "bypass";
  return "miss";
}
