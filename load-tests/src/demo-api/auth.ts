/**
 * The demo's stand-in for authentication: `Authorization: Bearer user-<id>` names the caller. There is
 * no secret: this is a benchmark upstream, and the point is that the header identifies a user (the
 * sidecar keys PerUser routes on a hash of it).
 */
export function callerUserId(authorization: string | undefined): number | undefined {
  const match = /^Bearer user-([1-9][0-9]{0,9})$/.exec(authorization?.trim() ?? "");
  return match ? Number(match[1]) : undefined;
}
