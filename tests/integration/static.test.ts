/**
 * The client served like a production site: hashed assets precompressed at build (brotli and gzip) and sent as
 * the copy the browser accepts, with Vary: Accept-Encoding and a year of immutable caching; the page itself is
 * never cached and carries a description. Bytes are read raw (fetch would decompress them).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { startTestServer } from "../support/server.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DIST = join(ROOT, "client", "dist");

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function get(url: string, headers: Record<string, string> = {}, method = "GET"): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** The script and stylesheet the built page links to. */
function linkedAssets(): string[] {
  const html = readFileSync(join(DIST, "index.html"), "utf8");
  const paths = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
  expect(paths.some((p) => p.endsWith(".js"))).toBe(true);
  expect(paths.some((p) => p.endsWith(".css"))).toBe(true);
  return paths;
}

const IMMUTABLE = "public, max-age=31536000, immutable";

describe("static assets", () => {
  let url: string;
  beforeAll(async () => {
    execFileSync(process.execPath, [join(ROOT, "scripts", "build-if-needed.mjs")], { cwd: ROOT, stdio: "inherit" });
    url = (await startTestServer()).url;
  });

  it("sends each hashed asset brotli-compressed when accepted, gzip otherwise, the original last", async () => {
    for (const path of linkedAssets()) {
      const original = readFileSync(join(DIST, path));
      const type = path.endsWith(".js") ? /^text\/javascript/ : /^text\/css/;

      const br = await get(`${url}${path}`, { "accept-encoding": "gzip, deflate, br, zstd" });
      expect(br.status, path).toBe(200);
      expect(br.headers["content-encoding"]).toBe("br");
      expect(br.headers["content-type"]).toMatch(type);
      expect(br.headers.vary).toMatch(/Accept-Encoding/i);
      expect(br.headers["cache-control"]).toBe(IMMUTABLE);
      expect(brotliDecompressSync(br.body).equals(original)).toBe(true);
      // Worth it: the script and the stylesheet shrink to well under half.
      expect(br.body.length).toBeLessThan(original.length / 2);

      const gz = await get(`${url}${path}`, { "accept-encoding": "gzip" });
      expect(gz.headers["content-encoding"]).toBe("gzip");
      expect(gz.headers["content-type"]).toMatch(type);
      expect(gunzipSync(gz.body).equals(original)).toBe(true);
      // A client that refuses brotli explicitly gets gzip.
      expect((await get(`${url}${path}`, { "accept-encoding": "br;q=0, gzip" })).headers["content-encoding"]).toBe(
        "gzip",
      );

      const plain = await get(`${url}${path}`);
      expect(plain.headers["content-encoding"]).toBeUndefined();
      expect(plain.headers.vary).toMatch(/Accept-Encoding/i);
      expect(plain.headers["cache-control"]).toBe(IMMUTABLE);
      expect(plain.body.equals(original)).toBe(true);

      const head = await get(`${url}${path}`, { "accept-encoding": "br" }, "HEAD");
      expect(head.status).toBe(200);
      expect(head.headers["content-encoding"]).toBe("br");
      expect(Number(head.headers["content-length"])).toBe(br.body.length);
    }
  });

  it("answers a missing asset, or a precompressed copy asked for by name, with a plain 404", async () => {
    const missing = await get(`${url}/assets/index-00000000.js`, { "accept-encoding": "br" });
    expect(missing.status).toBe(404);
    expect(missing.headers["content-type"]).toMatch(/^text\/plain/);
    expect(missing.headers["cache-control"]).toBeUndefined();
    const script = linkedAssets().find((p) => p.endsWith(".js"))!;
    expect((await get(`${url}${script}.br`)).status).toBe(404);
    expect((await get(`${url}/assets/..%2f..%2fpackage.json`)).status).toBe(404);
  });

  it("never caches the page, which describes itself; the icon is cached for an hour", async () => {
    for (const path of ["/", "/room", "/index.html", "/join/some-token"]) {
      const page = await get(`${url}${path}`, { "accept-encoding": "br" });
      expect(page.status, path).toBe(200);
      expect(page.headers["cache-control"], path).toBe("no-store");
      expect(page.body.toString()).toMatch(/<meta\s+name="description"\s+content="[^"]{50,160}"/);
    }
    const icon = await get(`${url}/favicon.svg`);
    expect(icon.status).toBe(200);
    expect(icon.headers["cache-control"]).toBe("public, max-age=3600");
  });
});
