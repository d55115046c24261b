import { BlockList, isIPv4 } from "node:net";
import { firstValue, type Headers } from "../http-cache/headers.js";

/**
 * What the upstream is told about the client on a cache fill (X-Forwarded-Proto/Host/For), from the
 * connection and from the forwarding headers of trusted proxies (spec.forwarding.trustedProxies). A
 * force-HTTPS app answers a fill without X-Forwarded-Proto with a redirect, and builds absolute links
 * from X-Forwarded-Host: both shape the response, so the scheme and the forwarded host are part of
 * every key. X-Forwarded-For is sent (the leading request's) but not keyed: a response that depends
 * on the client's address must say so with Vary. Pure (node:net's BlockList is a data structure).
 */
export interface Forwarded {
  readonly proto: "http" | "https";
  /** The host the client asked for: a trusted proxy's X-Forwarded-Host, else Host. */
  readonly host: string;
  /** The X-Forwarded-For chain to send: a trusted proxy's, plus the peer; or the peer alone. */
  readonly for?: string;
}

export interface Peer {
  /** The connection's remote address (undefined: none, e.g. a warming request). */
  readonly address?: string;
  /** Whether the connection itself is TLS. */
  readonly encrypted: boolean;
}

export type TrustCheck = (address: string) => boolean;

/** A check for "is this peer a trusted proxy", from CIDR ranges the policy parser validated. */
export function trustedProxies(ranges: readonly string[]): TrustCheck {
  const list = new BlockList();
  for (const range of ranges) {
    const slash = range.indexOf("/");
    const address = range.slice(0, slash);
    list.addSubnet(address, Number(range.slice(slash + 1)), isIPv4(address) ? "ipv4" : "ipv6");
  }
  // BlockList.check costs microseconds; peers (ingress pods) repeat, so answers are remembered.
  const known = new Map<string, boolean>();
  return (address) => {
    let answer = known.get(address);
    if (answer === undefined) {
      answer = check(list, address);
      if (known.size >= MAX_REMEMBERED) known.clear();
      known.set(address, answer);
    }
    return answer;
  };
}

const MAX_REMEMBERED = 4096;

function check(list: BlockList, address: string): boolean {
  // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d.
  const mapped = address.startsWith("::ffff:") ? address.slice(7) : undefined;
  if (mapped !== undefined && isIPv4(mapped)) return list.check(mapped, "ipv4");
  try {
    return isIPv4(address) ? list.check(address, "ipv4") : list.check(address, "ipv6");
  } catch {
    return false; // not an address
  }
}

export function forwarded(headers: Headers, host: string, peer: Peer, trusted: TrustCheck): Forwarded {
  const scheme = peer.encrypted ? "https" : "http";
  if (peer.address === undefined) return { proto: scheme, host };
  if (!trusted(peer.address)) return { proto: scheme, host, for: peer.address };
  const proto = firstToken(headers["x-forwarded-proto"])?.toLowerCase();
  const forwardedHost = firstToken(headers["x-forwarded-host"]);
  const chain = headers["x-forwarded-for"];
  const previous = typeof chain === "string" ? chain : chain?.join(", ");
  return {
    proto: proto === "https" || proto === "http" ? proto : scheme,
    host: forwardedHost || host,
    for: previous ? `${previous}, ${peer.address}` : peer.address,
  };
}

/** The first comma-separated element of a field (the client-most proxy's value), trimmed. */
function firstToken(value: Headers[string]): string | undefined {
  const first = firstValue(value);
  if (first === undefined) return undefined;
  const comma = first.indexOf(",");
  return (comma === -1 ? first : first.slice(0, comma)).trim();
}

/** The fields a fill carries for `forwarded` (lowercase names). */
export function forwardingHeaders(to: Forwarded): Record<string, string> {
  const out: Record<string, string> = { "x-forwarded-proto": to.proto, "x-forwarded-host": to.host };
  if (to.for !== undefined) out["x-forwarded-for"] = to.for;
  return out;
}
