import { spawnSync } from "node:child_process";

/**
 * A partition inside the test cluster's node: in the node's network namespace, every packet forwarded
 * to ip:port is dropped (no reset, no answer: what a cut link or a dropping firewall looks like to the
 * pods), until heal(). Traffic from pods to a Service is routed through the node, so cutting the
 * Service's pod address cuts every pod from it.
 */
export interface NodeFault {
  heal(): void;
}

const TABLE = "apicache_fault";

export function dropForwardedTo(netns: string, target: { ip: string; port: number }): NodeFault {
  const nft = (script: string) => {
    const result = spawnSync("ip", ["netns", "exec", netns, "nft", "-f", "-"], {
      input: script,
      encoding: "utf8",
    });
    if (result.status !== 0) throw new Error(`nft in ${netns} failed: ${result.stderr || result.error}`);
  };
  nft(
    [
      `table inet ${TABLE} {`,
      "  chain forward {",
      "    type filter hook forward priority -50; policy accept;",
      `    ip daddr ${target.ip} tcp dport ${target.port} drop`,
      "  }",
      "}",
    ].join("\n"),
  );
  let healed = false;
  return {
    heal: () => {
      if (healed) return;
      nft(`delete table inet ${TABLE}`);
      healed = true;
    },
  };
}
