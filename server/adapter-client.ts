/**
 * The Redis client as the Socket.IO Streams adapter sees it.
 *
 * The adapter (@socket.io/redis-streams-adapter 0.3.1) sends its ephemeral messages — serverSideEmit, the requests
 * of fetchSockets — with PUBLISH and drops the promise. When Redis closes the connection while such a PUBLISH is in
 * flight (a restart, a failover, a killed client), that promise rejects with nobody listening, and an unhandled
 * rejection ends a Node process. Attune emits a `commit` per applied command when it has peers, so under real use
 * this is a matter of when, not if.
 *
 * The adapter gets a view of the client whose publish calls have their failure caught and reported (a lost ephemeral
 * message is already survivable: a peer that misses a commit notices the version gap on the next one and reloads).
 * Everything else is the client itself.
 */

const PUBLISH_METHODS = new Set<PropertyKey>(["publish", "PUBLISH", "sPublish", "SPUBLISH"]);

export function withCaughtPublish<T extends object>(client: T, onError: (err: Error) => void): T {
  // The adapter reaches for xAdd and publish on every broadcast: each method is wrapped once, not on each access.
  const wrapped = new Map<PropertyKey, { of: unknown; fn: unknown }>();
  return new Proxy(client, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== "function" || prop === "constructor") return value;
      const known = wrapped.get(prop);
      if (known?.of === value) return known.fn;
      const method = value as (...args: unknown[]) => unknown;
      const fn = !PUBLISH_METHODS.has(prop)
        ? method.bind(target)
        : (...args: unknown[]) =>
            Promise.resolve(method.apply(target, args)).catch((err: unknown) => {
              onError(err instanceof Error ? err : new Error(String(err)));
              return 0;
            });
      wrapped.set(prop, { of: value, fn });
      return fn;
    },
  });
}
