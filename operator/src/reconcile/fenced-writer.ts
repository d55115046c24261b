import type { ClusterWriter } from "./reconciler.js";

/** A write refused because this replica no longer leads (its term of leadership ended). */
export class NotLeadingError extends Error {
  constructor() {
    super("not leading: the write was not sent (this replica's term of leadership ended)");
    this.name = "NotLeadingError";
  }
}

/**
 * The writer of one term of leadership: every write checks the term first, so a reconcile still
 * running when leadership ends (a hung renewal, a stop) sends nothing more. Requests already sent
 * are aborted by the API writer of the same term (kube/api-writer.ts).
 */
export function fencedWriter(writer: ClusterWriter, term: AbortSignal): ClusterWriter {
  const check = () => {
    if (term.aborted) throw new NotLeadingError();
  };
  return {
    apply: async (object) => {
      check();
      return writer.apply(object);
    },
    create: async (object) => {
      check();
      return writer.create(object);
    },
    patchStatus: async (namespace, name, status) => {
      check();
      return writer.patchStatus(namespace, name, status);
    },
    event: async (policy, event) => {
      check();
      return writer.event(policy, event);
    },
  };
}
