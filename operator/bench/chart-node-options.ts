import { template } from "../../charts/test/helm.js";

/**
 * The NODE_OPTIONS the Helm chart gives the operator with its default values (a heap ceiling derived
 * from the memory limit): the benchmark runs the operator as the chart does. Undefined: none.
 */
export async function chartNodeOptions(): Promise<string | undefined> {
  const objects = await template("helm4");
  for (const object of objects) {
    if (object.kind !== "Deployment") continue;
    const spec = object.spec as {
      template?: { spec?: { containers?: { name: string; env?: { name: string; value?: string }[] }[] } };
    };
    const operator = spec.template?.spec?.containers?.find((c) => c.name === "operator");
    if (operator) return operator.env?.find((e) => e.name === "NODE_OPTIONS")?.value;
  }
  throw new Error("the chart rendered no operator container");
}
