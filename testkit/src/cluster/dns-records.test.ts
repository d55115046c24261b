import { describe, expect, it } from "vitest";
import { answer, serviceIndex } from "./dns-records.js";

const services = serviceIndex([
  { namespace: "default", name: "kubernetes", clusterIp: "198.18.200.1" },
  { namespace: "shop", name: "booking-api", clusterIp: "198.18.200.17" },
  { namespace: "shop", name: "headless", clusterIp: "None" },
]);

describe("cluster DNS answers", () => {
  it("resolves <service>.<namespace>.svc.cluster.local to the ClusterIP", () => {
    expect(answer("booking-api.shop.svc.cluster.local.", "A", services)).toEqual({
      rcode: "NOERROR",
      addresses: ["198.18.200.17"],
    });
    expect(answer("KUBERNETES.default.svc.cluster.local", "A", services)).toEqual({
      rcode: "NOERROR",
      addresses: ["198.18.200.1"],
    });
  });

  it("answers an AAAA question for a known name with no addresses, not NXDOMAIN", () => {
    expect(answer("booking-api.shop.svc.cluster.local", "AAAA", services)).toEqual({
      rcode: "NOERROR",
      addresses: [],
    });
  });

  it("says NXDOMAIN for unknown names in the cluster domain (search-list tries, headless Services)", () => {
    for (const name of [
      "booking-api.shop.svc.cluster.local.shop.svc.cluster.local",
      "nope.shop.svc.cluster.local",
      "headless.shop.svc.cluster.local",
      "shop.svc.cluster.local",
      "pod.cluster.local",
    ]) {
      expect(answer(name, "A", services)).toEqual({ rcode: "NXDOMAIN" });
    }
  });

  it("refuses every name outside the cluster domain: it resolves nothing on the internet", () => {
    for (const name of ["example.com", "registry.k8s.io", "cluster.local.evil", "local"]) {
      expect(answer(name, "A", services)).toEqual({ rcode: "REFUSED" });
    }
  });
});
