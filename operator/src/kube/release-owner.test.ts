import { ApiException } from "@kubernetes/client-node";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../clock.js";
import { OPERATOR_ERROR_CODES } from "../errors.js";
import { InstallationGoneError, nextOwnerState, type OwnerState, ReleaseOwner } from "./release-owner.js";

const NAME = "apicache";
const found = (uid: string): OwnerState => nextOwnerState(undefined, NAME, uid);

/** The configuration as the API server has it: a UID, absent (404), or failing (403). */
class FakeConfiguration {
  uid: string | undefined = "uid-a";
  failing: number | undefined;
  reads = 0;

  read = async () => {
    this.reads += 1;
    if (this.failing !== undefined) throw new ApiException(this.failing, "failing", "", {});
    if (this.uid === undefined) throw new ApiException(404, "not found", "", {});
    return { metadata: { uid: this.uid } };
  };
}

function owner(configuration: FakeConfiguration, clock = new FakeClock(0)) {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const release = new ReleaseOwner({ name: NAME, read: configuration.read, clock, log, logEveryMs: 60_000 });
  const refusals = () => lines.filter((line) => line.level === 40);
  return { release, lines, refusals, clock };
}

describe("the installation's owner (the MutatingWebhookConfiguration)", () => {
  describe("the state after a lookup", () => {
    it.each([
      ["never looked", undefined, "uid-a", "found:uid-a"],
      ["never looked", undefined, undefined, "not-created"],
      ["not created yet", { kind: "not-created" }, undefined, "not-created"],
      ["not created yet", { kind: "not-created" }, "uid-a", "found:uid-a"],
      ["found", found("uid-a"), undefined, "gone:uid-a"],
      ["found", found("uid-a"), "uid-b", "found:uid-b"],
      ["gone", { kind: "gone", uid: "uid-a" }, undefined, "gone:uid-a"],
      ["gone", { kind: "gone", uid: "uid-a" }, "uid-b", "found:uid-b"],
    ] as const)("after %s, a lookup that sees %s reads as %s", (_label, previous, uid, expected) => {
      const next = nextOwnerState(previous as OwnerState | undefined, NAME, uid);
      const text =
        next.kind === "found"
          ? `found:${next.reference.uid}`
          : next.kind === "gone"
            ? `gone:${next.uid}`
            : next.kind;
      expect(text).toBe(expected);
    });
  });

  describe("for a create", () => {
    it("looks the configuration up fresh every time, so a re-created one's new UID is used", async () => {
      const configuration = new FakeConfiguration();
      const { release } = owner(configuration);
      expect((await release.forCreate("Lease x"))?.uid).toBe("uid-a");
      configuration.uid = "uid-b";
      expect(await release.forCreate("Lease x")).toEqual({
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "MutatingWebhookConfiguration",
        name: NAME,
        uid: "uid-b",
      });
      expect(configuration.reads).toBe(2);
    });

    it("names no owner while the configuration was never seen (it is not created yet)", async () => {
      const configuration = new FakeConfiguration();
      configuration.uid = undefined;
      const { release, refusals } = owner(configuration);
      expect(await release.forCreate("Lease x")).toBeUndefined();
      expect(refusals()).toEqual([]);
    });

    it("is refused once gone when it never read the configuration but an object it read was owned by it", async () => {
      const configuration = new FakeConfiguration();
      configuration.uid = undefined; // started before the configuration existed; never looked again
      const { release } = owner(configuration);
      await release.lookup();
      // The Lease another replica wrote names the configuration as its owner: it existed.
      release.learn([{ kind: "MutatingWebhookConfiguration", name: NAME, uid: "uid-a" }]);
      expect(release.cached()).toEqual(found("uid-a"));
      const refusal = await release.forCreate("Lease ns/apicache-leader").catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(InstallationGoneError);
      release.learn([{ kind: "MutatingWebhookConfiguration", name: NAME, uid: "uid-b" }]);
      expect(release.cached()).toMatchObject({ kind: "gone", uid: "uid-a" }); // a lookup decides, not a stale owner
      release.learn([{ kind: "ConfigMap", name: NAME, uid: "x" }]);
      expect(release.cached()).toMatchObject({ kind: "gone" });
    });

    it("is refused once the configuration it saw is gone, with a log line that says what to do", async () => {
      const configuration = new FakeConfiguration();
      const { release, refusals } = owner(configuration);
      await release.lookup();
      configuration.uid = undefined;
      const refusal = await release.forCreate("Lease ns/apicache-leader").catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(InstallationGoneError);
      expect((refusal as InstallationGoneError).code).toBe(OPERATOR_ERROR_CODES.INSTALLATION_GONE);
      expect(refusals()).toHaveLength(1);
      expect(refusals()[0]).toMatchObject({
        configuration: NAME,
        uid: "uid-a",
        object: "Lease ns/apicache-leader",
        err: { code: "APICACHE_ERR_OPERATOR_INSTALLATION_GONE" },
      });
      expect(refusals()[0]?.err).toMatchObject({ message: expect.stringContaining("helm upgrade") });
    });

    it("logs the refusal of each object at most once per interval", async () => {
      const configuration = new FakeConfiguration();
      const { release, refusals, clock } = owner(configuration);
      await release.lookup();
      configuration.uid = undefined;
      const refuse = (object: string) => release.forCreate(object).catch(() => undefined);
      for (let i = 0; i < 5; i++) {
        await refuse("Lease l");
        await refuse("Secret s");
        clock.advance(2_000);
      }
      expect(refusals().map((line) => line.object)).toEqual(["Lease l", "Secret s"]);
      clock.advance(60_000);
      await refuse("Lease l");
      expect(refusals()).toHaveLength(3);
    });

    it("resumes with the new owner when the configuration comes back, and says so", async () => {
      const configuration = new FakeConfiguration();
      const { release, lines } = owner(configuration);
      const changes: OwnerState[] = [];
      release.onChange((state) => changes.push(state));
      await release.lookup();
      configuration.uid = undefined;
      await release.forCreate("Lease l").catch(() => undefined);
      configuration.uid = "uid-b";
      expect((await release.forCreate("Lease l"))?.uid).toBe("uid-b");
      expect(changes.map((state) => state.kind)).toEqual(["gone", "found"]);
      expect(lines.some((line) => line.level === 30 && line.uid === "uid-b")).toBe(true);
    });

    it("is not decided on a failed lookup (403): the error propagates, nothing is created ownerless", async () => {
      const configuration = new FakeConfiguration();
      configuration.failing = 403;
      const { release } = owner(configuration);
      await expect(release.forCreate("Secret s")).rejects.toMatchObject({ code: 403 });
    });
  });

  describe("looking again until found", () => {
    it("lets a process that started before the configuration existed read its deletion as gone", async () => {
      const configuration = new FakeConfiguration();
      configuration.uid = undefined;
      const { release } = owner(configuration);
      await release.seeUnlessFound();
      expect(release.cached()?.kind).toBe("not-created");
      configuration.uid = "uid-a";
      await release.seeUnlessFound();
      configuration.uid = undefined;
      await expect(release.forCreate("Lease l")).rejects.toBeInstanceOf(InstallationGoneError);
    });

    it("asks nothing once found", async () => {
      const configuration = new FakeConfiguration();
      const { release } = owner(configuration);
      await release.seeUnlessFound();
      await release.seeUnlessFound();
      expect(configuration.reads).toBe(1);
    });
  });

  describe("for an update", () => {
    it("uses the owner it found without another request", async () => {
      const configuration = new FakeConfiguration();
      const { release } = owner(configuration);
      await release.lookup();
      configuration.uid = "uid-b";
      expect((await release.forUpdate())?.uid).toBe("uid-a");
      expect(configuration.reads).toBe(1);
    });

    it("looks the configuration up while it has none, and adds it once it exists", async () => {
      const configuration = new FakeConfiguration();
      configuration.uid = undefined;
      const { release } = owner(configuration);
      expect(await release.forUpdate()).toBeUndefined();
      configuration.uid = "uid-a";
      expect((await release.forUpdate())?.uid).toBe("uid-a");
    });

    it("leaves the object's references alone (undefined) when the lookup fails or the owner is gone", async () => {
      const configuration = new FakeConfiguration();
      configuration.failing = 500;
      const { release } = owner(configuration);
      expect(await release.forUpdate()).toBeUndefined();
      configuration.failing = undefined;
      await release.lookup();
      configuration.uid = undefined;
      await release.lookup();
      expect(await release.forUpdate()).toBeUndefined();
    });
  });
});
