/**
 * The production path: `npm start` builds what is missing and runs the compiled JavaScript in build/ with plain
 * Node (no TypeScript loader, no on-the-fly transpiling); the built server serves the page, the compressed
 * assets, the API and sockets.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Participant } from "../../client/headless/participant.ts";
import { type AttuneProcess, BUILT_MAIN, startAttuneProcess } from "../support/redis-server.ts";
import { createTestSession } from "../support/server.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BUILD = join(ROOT, "build");

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** Environment without anything that could slip a TypeScript loader into the child. */
const PLAIN_NODE = { NODE_OPTIONS: "", LOG_LEVEL: "info" };

describe("production build", { timeout: 90_000 }, () => {
  beforeAll(() => {
    execFileSync(process.execPath, [join(ROOT, "scripts", "build-if-needed.mjs")], { cwd: ROOT, stdio: "inherit" });
  }, 120_000);

  it("is plain JavaScript: every relative import points at a .js file in the build", () => {
    const files = filesUnder(BUILD);
    expect(files.some((f) => f.endsWith(join("server", "main.js")))).toBe(true);
    expect(files.filter((f) => f.endsWith(".ts"))).toEqual([]);
    for (const file of files.filter((f) => f.endsWith(".js"))) {
      const source = readFileSync(file, "utf8");
      for (const [, specifier] of source.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
        expect(specifier, relative(BUILD, file)).toMatch(/\.js$/);
      }
    }
  });

  it("needs only production dependencies (the container installs with --omit=dev)", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    const used = new Set<string>();
    for (const file of filesUnder(BUILD).filter((f) => f.endsWith(".js"))) {
      for (const [, specifier] of readFileSync(file, "utf8").matchAll(
        /^(?:import|export)\s[^;"']*?\bfrom\s*["']([^"'.][^"']*)["']/gm,
      )) {
        if (specifier!.startsWith("node:")) continue;
        const parts = specifier!.split("/");
        used.add(specifier!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!);
      }
    }
    expect(used.size).toBeGreaterThan(3);
    for (const name of used) expect(Object.keys(pkg.dependencies), name).toContain(name);
  });

  describe("the built server", () => {
    let server: AttuneProcess;
    afterAll(async () => {
      await server?.stop("SIGTERM");
    });

    it("starts with plain Node and serves the page, compressed assets, the API and a seat's socket", async () => {
      server = await startAttuneProcess(PLAIN_NODE, { built: true });
      expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ ok: true });
      const page = await fetch(`${server.url}/`);
      expect(page.headers.get("cache-control")).toBe("no-store");
      const html = await page.text();
      const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
      expect(script).toBeDefined();
      const asset = await fetch(`${server.url}${script}`, { headers: { "accept-encoding": "br" } });
      expect(asset.status).toBe(200);
      expect(asset.headers.get("content-encoding")).toBe("br");

      const created = await createTestSession(server.url, { mode: "guided", channel: "typed" });
      const a = await Participant.join(created.links.a, { reconnection: false });
      try {
        const ack = await a.send({ type: "start-exercise" });
        expect(ack.ok).toBe(true);
      } finally {
        a.close();
      }
      expect(server.output()).toContain('"msg":"join"');
    });
  });

  it("`npm start` (the README's command) builds what it needs, starts the built server, stops on SIGTERM", async () => {
    const child: ChildProcess = spawn("npm", ["start"], {
      cwd: ROOT,
      env: { ...process.env, ...PLAIN_NODE, PORT: "0", HOST: "127.0.0.1" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let output = "";
    child.stdout?.on("data", (d) => {
      output += String(d);
    });
    child.stderr?.on("data", (d) => {
      output += String(d);
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`npm start logged no URL:\n${output}`)), 60_000);
        const check = setInterval(() => {
          const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
          if (match?.[1]) {
            clearInterval(check);
            clearTimeout(timer);
            resolve(match[1]);
          }
        }, 50);
      });
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      // npm runs the script through a shell: the server is the one running the build, not tsx.
      const ps = execFileSync("ps", ["-o", "args=", "-g", String(child.pid)], { encoding: "utf8" });
      expect(ps).toContain(BUILT_MAIN);
      expect(ps).not.toMatch(/tsx/);
      process.kill(-child.pid!, "SIGTERM");
      await exited;
      expect(output).toContain('"msg":"stopped"');
    } finally {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  });
});
