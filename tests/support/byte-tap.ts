/**
 * A raw TCP proxy in front of a test server that keeps every byte a client sends (and every byte it receives), so
 * a test can search what the server was given. HTTP requests are kept as they are; after a WebSocket upgrade the
 * client's frames are unmasked (a browser or `ws` masks each frame with a random key, which would hide the words
 * from a naive search) and only their payloads are kept. A compressed frame fails the capture loudly.
 */
import net from "node:net";

export interface ByteTap {
  /** The proxy's origin (http://127.0.0.1:<port>): give it to clients instead of the server's. */
  url: string;
  /** What clients sent: HTTP requests as they came, WebSocket payloads unmasked. */
  received(): Buffer;
  /** What the server sent back, as it came. */
  sent(): Buffer;
  /** Problems seen while reading frames (a compressed or unreadable frame); empty when the capture is whole. */
  problems: string[];
  close(): Promise<void>;
}

/** Reads client WebSocket frames out of a byte stream; leftovers wait for the next chunk. */
class FrameReader {
  #buffer = Buffer.alloc(0);
  constructor(
    private readonly out: Buffer[],
    private readonly problems: string[],
  ) {}

  push(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const b = this.#buffer;
      if (b.length < 2) return;
      const rsv1 = (b[0]! & 0x40) !== 0;
      const masked = (b[1]! & 0x80) !== 0;
      let length = b[1]! & 0x7f;
      let at = 2;
      if (length === 126) {
        if (b.length < 4) return;
        length = b.readUInt16BE(2);
        at = 4;
      } else if (length === 127) {
        if (b.length < 10) return;
        length = Number(b.readBigUInt64BE(2));
        at = 10;
      }
      const maskAt = at;
      if (masked) at += 4;
      if (b.length < at + length) return;
      const payload = Buffer.from(b.subarray(at, at + length));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= b[maskAt + (i % 4)]!;
      if (rsv1) this.problems.push("a compressed WebSocket frame: its words cannot be searched");
      this.out.push(payload);
      this.#buffer = b.subarray(at + length);
    }
  }
}

/** Starts a proxy to `target` (an http://host:port origin). */
export async function startByteTap(target: string): Promise<ByteTap> {
  const { hostname, port } = new URL(target);
  const fromClients: Buffer[] = [];
  const toClients: Buffer[] = [];
  const problems: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    sockets.add(client);
    sockets.add(upstream);
    let head = Buffer.alloc(0);
    let frames: FrameReader | null = null;
    client.on("data", (chunk: Buffer) => {
      upstream.write(chunk);
      if (frames) return frames.push(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      // Until a request asks for an upgrade, everything is plain HTTP (kept whole, bodies included).
      if (end >= 0 && /^upgrade: websocket/im.test(head.subarray(0, end).toString("latin1"))) {
        fromClients.push(head.subarray(0, end + 4));
        frames = new FrameReader(fromClients, problems);
        frames.push(head.subarray(end + 4));
        return;
      }
      fromClients.push(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      toClients.push(chunk);
      client.write(chunk);
    });
    const done = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", done);
    upstream.on("close", done);
    client.on("error", done);
    upstream.on("error", done);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    received: () => Buffer.concat(fromClients),
    sent: () => Buffer.concat(toClients),
    problems,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
