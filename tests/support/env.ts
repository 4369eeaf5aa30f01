/**
 * Availability of external services for test suites. A suite that needs one skips loudly when it is absent,
 * except under CI=true, where absence is a failure (a skipped suite would hide a hole in CI).
 */
import { execFileSync } from "node:child_process";
import { createClient } from "redis";

export const IN_CI = process.env.CI === "true" || process.env.CI === "1";
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** True when a Redis server answers PING at REDIS_URL within a second. */
export async function redisAvailable(url: string = REDIS_URL): Promise<boolean> {
  const client = createClient({ url, socket: { connectTimeout: 1000, reconnectStrategy: false } });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    if (client.isOpen) await client.quit().catch(() => {});
  }
}

/**
 * Decides whether a suite needing `what` runs. Returns true to run; false to skip (with a loud warning);
 * throws under CI so the run fails instead of silently skipping.
 */
export function requireService(what: string, available: boolean): boolean {
  if (available) return true;
  const message = `${what} is not available`;
  if (IN_CI) throw new Error(`${message}: CI=true requires it (see .ci/run)`);
  console.warn(`\n*** SKIPPING: ${message}. These tests did not run. ***\n`);
  return false;
}

/** True when the redis-server and redis-cli binaries are installed (tests start their own Redis Cluster with them). */
export function clusterToolsAvailable(): boolean {
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" });
    execFileSync("redis-cli", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
