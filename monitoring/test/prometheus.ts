// The real Prometheus the monitoring tests start lives in testkit (the load harness starts one too).
export * from "@apicache/testkit/prometheus";
