import { describe, expect, it } from "vitest";
import { parseClusterState } from "./cluster-state.js";

describe("a cluster directory's cluster.json", () => {
  it("reads the slot, the release and etcd's ports", () => {
    const text = '{"slot":5,"kubeVersion":"v1.35.4","etcdPorts":{"etcdClient":40001,"etcdPeer":40002}}';
    expect(parseClusterState(text)).toEqual({
      kind: "valid",
      state: { slot: 5, kubeVersion: "v1.35.4", etcdPorts: { etcdClient: 40001, etcdPeer: 40002 } },
    });
  });

  it("reads an older file without etcd's ports, ignoring fields it no longer uses", () => {
    const text = '{"slot":0,"kubeVersion":"v1.31.14","createdHostDirs":["/run/netns"]}';
    expect(parseClusterState(text)).toEqual({ kind: "valid", state: { slot: 0, kubeVersion: "v1.31.14" } });
  });

  it.each([
    ['{"slot":8,"kubeVersion":""}', /kubeVersion "" is not a Kubernetes release/],
    ['{"slot":8}', /kubeVersion undefined/],
    ['{"slot":99,"kubeVersion":"v1.35.4"}', /slot 99 is not an integer from 0 to 55/],
    ['{"slot":"1","kubeVersion":"v1.35.4"}', /slot "1"/],
    ['{"slot":1,"kubeVersion":"v1.35.4","etcdPorts":{"etcdClient":0}}', /etcdPorts .* are not two ports/],
    ['{"slot":1,"kubeV', /not JSON/],
    ["null", /not an object/],
    ["", /not JSON/],
  ])("reports %s as unusable, saying why", (text, problem) => {
    const read = parseClusterState(text);
    expect(read.kind).toBe("invalid");
    expect(read.kind === "invalid" && read.problem).toMatch(problem);
  });
});
