/**
 * The container recipe and the example compose file, checked by reading them (Docker cannot run here): the
 * compose file's nginx uses the very template the nginx suites exercise, with every variable it needs, routed to
 * nodes named as the template expects; each node's environment is a valid configuration trusting exactly nginx;
 * the Dockerfile builds in one stage and runs the built server as a non-root user with a /healthz check.
 */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../../server/config.ts";
import { NGINX_TEMPLATE, NODE_NAMES, renderTemplate, templateVariables } from "../support/nginx.ts";
import { BUILT_MAIN } from "../support/redis-server.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const COMPOSE = join(ROOT, "deploy", "compose.yaml");

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  networks?: string[] | Record<string, { ipv4_address?: string }>;
}
const compose = parse(readFileSync(COMPOSE, "utf8"), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;

describe("deploy/compose.yaml", () => {
  const nginx = services.nginx!;
  const nodes = Object.entries(services).filter(([, s]) => s.environment?.NODE_NAME);

  it("mounts the tested nginx template where the nginx image fills it in, setting every variable it uses", () => {
    const mounts = (nginx.volumes ?? []).map((v) => v.split(":"));
    const template = mounts.find(([, target]) => target?.startsWith("/etc/nginx/templates/"));
    expect(template).toBeDefined();
    expect(resolve(dirname(COMPOSE), template![0]!)).toBe(NGINX_TEMPLATE);
    expect(template![1]).toMatch(/\.conf\.template$/);
    expect(Object.keys(nginx.environment ?? {}).sort()).toEqual(templateVariables());
    // Rendered with the compose file's values, nothing is left unfilled.
    expect(() => renderTemplate(readFileSync(NGINX_TEMPLATE, "utf8"), nginx.environment!)).not.toThrow();
  });

  it("runs one node per name the template routes by, each reached at the address nginx is given", () => {
    expect(nodes.map(([, s]) => s.environment!.NODE_NAME).sort()).toEqual([...NODE_NAMES].sort());
    NODE_NAMES.forEach((name, i) => {
      const [service] = nodes.find(([, s]) => s.environment!.NODE_NAME === name)!;
      const port = loadConfig({ PORT: "3000", ...nodes.find(([n]) => n === service)![1].environment }).port;
      expect(nginx.environment![`ATTUNE_NODE${i + 1}`]).toBe(`${service}:${port}`);
    });
  });

  it("gives each node a valid configuration on the shared Redis, trusting nginx's address and nothing else", () => {
    const networks = nginx.networks as Record<string, { ipv4_address?: string }>;
    const nginxAddress = Object.values(networks)[0]?.ipv4_address;
    expect(nginxAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const configs = nodes.map(([, s]) => loadConfig(s.environment!));
    for (const config of configs) {
      expect(config.trustProxy).toEqual([nginxAddress]);
      expect(config.redisUrl).toBe("redis://redis:6379");
    }
    expect(new Set(configs.map((c) => c.redisPrefix)).size).toBe(1);
    // Only nginx is published; nodes are built from this repository's Dockerfile.
    for (const [, s] of nodes) {
      expect(s.ports).toBeUndefined();
      expect(s.build?.dockerfile).toBe("Dockerfile");
      expect(resolve(dirname(COMPOSE), s.build!.context)).toBe(resolve(ROOT));
    }
  });
});

describe("docs/operations.md", () => {
  it("carries the nginx configuration exactly as the template the tests run", () => {
    const doc = readFileSync(join(ROOT, "docs", "operations.md"), "utf8");
    const block = /```nginx\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block).toBe(readFileSync(NGINX_TEMPLATE, "utf8"));
  });
});

describe("Dockerfile", () => {
  const text = readFileSync(join(ROOT, "Dockerfile"), "utf8");
  const lines = text.split("\n").filter((l) => l.trim() && !l.trim().startsWith("#"));
  const stages = lines.filter((l) => l.startsWith("FROM "));
  const runtime = text.slice(text.lastIndexOf("\nFROM "));

  it("builds in one stage and runs the built server on Node 20 in another, without dev dependencies", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage).toMatch(/^FROM node:20[-\w.]*/);
    expect(text).toMatch(/RUN npm run build/);
    expect(runtime).toMatch(/npm ci --omit=dev/);
    expect(runtime).toMatch(/COPY --from=build \/app\/build \.\/build/);
    expect(runtime).toMatch(/COPY --from=build \/app\/client\/dist \.\/client\/dist/);
    // The same entry point the production suite starts with plain Node.
    expect(runtime).toContain(`CMD ["node", "${BUILT_MAIN}"]`);
  });

  it("runs as a non-root user with a health check on /healthz", () => {
    const user = runtime.split("\n").find((l) => l.startsWith("USER "));
    expect(user).toBeDefined();
    expect(user).not.toMatch(/USER (root|0)\b/);
    // The user is set before the command runs.
    expect(runtime.indexOf("USER ")).toBeLessThan(runtime.indexOf("CMD "));
    expect(runtime).toMatch(/HEALTHCHECK[^\n]*\\\n[^\n]*\/healthz/);
  });

  it("copies into the build stage everything the build reads", () => {
    const build = text.slice(0, text.lastIndexOf("\nFROM "));
    for (const path of ["package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json"]) {
      expect(build).toContain(path);
    }
    for (const dir of ["client", "server", "shared", "scripts"]) expect(build).toContain(`COPY ${dir} ./${dir}`);
    const ignored = readFileSync(join(ROOT, ".dockerignore"), "utf8").split("\n");
    for (const local of ["node_modules", "build", "client/dist"]) expect(ignored).toContain(local);
  });
});
