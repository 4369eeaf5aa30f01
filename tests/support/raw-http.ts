/**
 * Raw HTTP requests to the socket endpoint, as a browser or a proxy would send them, so a test can read the
 * exact status, headers and body of a refusal (socket.io-client hides them).
 */
import { randomBytes } from "node:crypto";
import { request } from "node:http";

export interface RawAnswer {
  status: number;
  contentType: string | undefined;
  body: string;
}

/** A websocket upgrade request to /socket.io/; resolves with the answer (101 when the upgrade was accepted). */
export function upgradeRequest(url: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/socket.io/?EIO=4&transport=websocket`, {
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": randomBytes(16).toString("base64"),
        ...headers,
      },
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, contentType: res.headers["content-type"], body: "" });
    });
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, contentType: res.headers["content-type"], body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** The opening request of a long-polling session; resolves with the answer. */
export async function pollingRequest(url: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const res = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { headers });
  return { status: res.status, contentType: res.headers.get("content-type") ?? undefined, body: await res.text() };
}
