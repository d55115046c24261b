/**
 * What the test cluster's DNS answers (pure): `<service>.<namespace>.svc.<domain>` → the Service's
 * ClusterIP, the way CoreDNS's kubernetes plugin does for ClusterIP Services. It is authoritative for
 * the cluster domain only and recurses for nobody: a name outside it is REFUSED, so no lookup of a pod
 * ever leaves the machine.
 */
export interface ServiceAddress {
  readonly namespace: string;
  readonly name: string;
  readonly clusterIp: string;
}

export type DnsAnswer =
  | { readonly rcode: "NOERROR"; readonly addresses: readonly string[] }
  | { readonly rcode: "NXDOMAIN" | "REFUSED" };

export const dnsTtlSeconds = 5;

/** Index Services by `<name>.<namespace>` (headless and IP-less Services answer nothing). */
export function serviceIndex(services: Iterable<ServiceAddress>): Map<string, string> {
  const index = new Map<string, string>();
  for (const service of services) {
    if (/^\d+\.\d+\.\d+\.\d+$/.test(service.clusterIp)) {
      index.set(`${service.name}.${service.namespace}`, service.clusterIp);
    }
  }
  return index;
}

export function answer(
  name: string,
  type: string,
  services: ReadonlyMap<string, string>,
  domain = "cluster.local",
): DnsAnswer {
  const fqdn = name.toLowerCase().replace(/\.$/, "");
  const suffix = `.svc.${domain}`;
  if (fqdn !== domain && !fqdn.endsWith(`.${domain}`)) return { rcode: "REFUSED" };
  if (!fqdn.endsWith(suffix)) return { rcode: "NXDOMAIN" };
  const labels = fqdn.slice(0, -suffix.length).split(".");
  if (labels.length !== 2) return { rcode: "NXDOMAIN" };
  const clusterIp = services.get(labels.join("."));
  if (clusterIp === undefined) return { rcode: "NXDOMAIN" };
  // The name exists: an AAAA (or any other) question gets an empty answer, not NXDOMAIN.
  return { rcode: "NOERROR", addresses: type === "A" ? [clusterIp] : [] };
}
