import { createSocket, type RemoteInfo } from "node:dgram";
import { createServer, type Server, type Socket } from "node:net";
import { CoreV1Api, type KubeConfig, makeInformer, type V1Service } from "@kubernetes/client-node";
import dnsPacket from "dns-packet";
import { answer, dnsTtlSeconds, type ServiceAddress, serviceIndex } from "./dns-records.js";

/**
 * The test cluster's DNS: the host side of the cluster (next to the API server), listening on the
 * host's end of the node link, answering cluster names from a Service informer (dns-records.ts).
 * UDP and TCP, as resolvers retry over TCP when an answer is truncated.
 */
export interface ClusterDns {
  readonly services: () => number;
  close(): Promise<void>;
}

const rcodes = { NOERROR: 0, NXDOMAIN: 3, REFUSED: 5 } as const;

function respond(query: dnsPacket.Packet, services: ReadonlyMap<string, string>): Buffer {
  const question = query.questions?.[0];
  const result =
    question === undefined ? { rcode: "REFUSED" as const } : answer(question.name, question.type, services);
  const answers: dnsPacket.Answer[] =
    result.rcode === "NOERROR" && question !== undefined
      ? result.addresses.map((data) => ({ type: "A", name: question.name, ttl: dnsTtlSeconds, data }))
      : [];
  const authoritative = result.rcode === "REFUSED" ? 0 : dnsPacket.AUTHORITATIVE_ANSWER;
  return dnsPacket.encode({
    type: "response",
    id: query.id ?? 0,
    flags: authoritative | rcodes[result.rcode],
    questions: query.questions ?? [],
    answers,
  });
}

function serveTcp(socket: Socket, services: () => ReadonlyMap<string, string>): void {
  let buffered = Buffer.alloc(0);
  socket.setTimeout(10_000, () => socket.destroy());
  socket.on("error", () => socket.destroy());
  socket.on("data", (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
      const length = buffered.readUInt16BE(0);
      const message = buffered.subarray(2, 2 + length);
      buffered = buffered.subarray(2 + length);
      try {
        const reply = respond(dnsPacket.decode(message), services());
        const framed = Buffer.alloc(2 + reply.length);
        framed.writeUInt16BE(reply.length, 0);
        reply.copy(framed, 2);
        socket.write(framed);
      } catch {
        socket.destroy();
        return;
      }
    }
  });
}

function toAddress(service: V1Service): ServiceAddress {
  return {
    namespace: service.metadata?.namespace ?? "",
    name: service.metadata?.name ?? "",
    clusterIp: service.spec?.clusterIP ?? "",
  };
}

export async function startClusterDns(options: {
  readonly kubeConfig: KubeConfig;
  readonly host: string;
  readonly port: number;
  readonly onError?: (error: unknown) => void;
}): Promise<ClusterDns> {
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const informer = makeInformer(options.kubeConfig, "/api/v1/services", () =>
    core.listServiceForAllNamespaces(),
  );
  let index: ReadonlyMap<string, string> = new Map();
  const rebuild = () => {
    index = serviceIndex(informer.list().map(toAddress));
  };
  for (const event of ["add", "update", "delete"] as const) informer.on(event, rebuild);
  // The informer stops on an error (client-node): restart it, after a pause, for as long as we run.
  let closed = false;
  informer.on("error", (error: unknown) => {
    options.onError?.(error);
    if (!closed) setTimeout(() => void informer.start().catch(options.onError), 1_000);
  });
  await informer.start();
  rebuild();

  const udp = createSocket("udp4");
  udp.on("message", (message: Buffer, peer: RemoteInfo) => {
    try {
      udp.send(respond(dnsPacket.decode(message), index), peer.port, peer.address);
    } catch (error) {
      options.onError?.(error);
    }
  });
  await new Promise<void>((resolve, reject) => {
    udp.once("error", reject);
    udp.bind(options.port, options.host, () => resolve());
  });
  const tcp: Server = createServer((socket) => serveTcp(socket, () => index));
  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(options.port, options.host, () => resolve());
  });
  return {
    services: () => index.size,
    close: async () => {
      closed = true;
      await informer.stop();
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
}
