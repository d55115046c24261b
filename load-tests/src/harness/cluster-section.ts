import { type JobReport, renderJobReport } from "./job-report.js";

/** load-tests/results.md's section for `make bench-cluster`: how it was produced, then the Job's tables. Pure. */
export const CLUSTER_HEADING = "## In the cluster (make bench-cluster)";

export interface ClusterRun {
  readonly report: JobReport;
  /** The command as typed, e.g. `make bench-cluster`. */
  readonly command: string;
  /** The harness's arguments in the Job. */
  readonly args: readonly string[];
  /** From applying the Job to its end. */
  readonly jobSeconds: number;
}

export function clusterSection(run: ClusterRun): string {
  const { report } = run;
  const date = report.startedAt.slice(0, 16).replace("T", " ");
  return [
    `Produced by \`${run.command}\` on ${date} UTC: \`make cluster-demo\` (the single-node cluster, the chart with its ` +
      "bundled Redis, the demo API's 2 replicas with the injected sidecar and their shared PostgreSQL, small dataset), " +
      "then the Job of `load-tests/cluster/bench-job.yaml` running the load harness in a pod " +
      `(\`job-main.js ${run.args.join(" ")}\`; ${Math.round(run.jobSeconds)} s from apply to completion).`,
    "",
    "How to read it: the same side-by-side run as `make bench`, in the deployment shape users run. " +
      `"direct" is the \`demo-api-direct\` Service (${report.directUrl}): the same pods, the API container's port, ` +
      `bypassing the sidecar. "sidecar" is the demo's own \`demo-api\` Service (${report.sidecarUrl}), whose named ` +
      "port the injected sidecar owns. The Job's pod reaches both by cluster DNS and ClusterIP through kube-proxy, " +
      "as any client in the cluster does; kube-proxy spreads its connections over the 2 replicas, each with its own L1 " +
      "in front of the shared Redis. Latencies are measured by the load generator from each request's scheduled time; " +
      "hit ratio and upstream requests saved come from the `Cache-Status` header. Not measured here, unlike " +
      "`make bench`: writes one at a time and the dashboard check.",
    "",
    `Machine, as the Job's pod saw it: ${report.machine}. The control plane, the node, the demo's pods, Redis, ` +
      "PostgreSQL and the load generator all share it.",
    "",
    renderJobReport(report),
  ].join("\n");
}
