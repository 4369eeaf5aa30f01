/**
 * nginx in front of two Attune nodes for tests: startAttuneCluster adds the nodes (separate built-server processes
 * on one Redis) to the nginx runner of scripts/lib/nginx.ts.
 */
import { NODE_NAMES, type RunningNginx, startNginx } from "../../scripts/lib/nginx.ts";
import { type AttuneProcess, startAttuneProcess } from "./redis-server.ts";

export {
  NGINX_PATH,
  NGINX_TEMPLATE,
  NODE_NAMES,
  nginxAvailable,
  type RunningNginx,
  renderTemplate,
  startNginx,
  templateVariables,
} from "../../scripts/lib/nginx.ts";

export interface AttuneCluster {
  nginx: RunningNginx;
  /** The nodes, in NODE_NAMES order. */
  nodes: AttuneProcess[];
  /** The node (index into nodes) an Engine.IO session id belongs to. */
  nodeOf(sid: string): number;
  /** Stops node `i` gracefully (SIGTERM), waits for it to exit, and starts it again on the same port. */
  restart(i: number): Promise<{ code: number | null }>;
  stop(): Promise<void>;
}

/**
 * Two Attune nodes (the built server, as production runs it; NODE_NAME node1/node2; one Redis) behind nginx
 * with the deployment template. `env` is added to each node's environment (REDIS_URL and REDIS_PREFIX at least).
 */
export async function startAttuneCluster(env: Record<string, string>): Promise<AttuneCluster> {
  const started = await Promise.all(
    NODE_NAMES.map((name) => startAttuneProcess({ ...env, NODE_NAME: name, NODE_OPTIONS: "" }, { built: true })),
  );
  const nodes = [...started];
  let nginx: RunningNginx;
  try {
    nginx = await startNginx(nodes.map((n) => `127.0.0.1:${n.port}`));
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
    throw err;
  }
  return {
    nginx,
    nodes,
    nodeOf(sid) {
      const i = NODE_NAMES.findIndex((name) => sid.startsWith(`${name}.`));
      if (i < 0) throw new Error(`session id ${sid} names no node`);
      return i;
    },
    async restart(i) {
      const node = nodes[i]!;
      const exit = await node.stop("SIGTERM");
      nodes[i] = await startAttuneProcess(
        { ...env, NODE_NAME: NODE_NAMES[i]!, NODE_OPTIONS: "" },
        { built: true, port: node.port },
      );
      return { code: exit.code };
    },
    async stop() {
      await nginx.stop();
      await Promise.all(nodes.map((n) => n.stop("SIGTERM")));
    },
  };
}
