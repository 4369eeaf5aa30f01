/**
 * The baseline: a bare Socket.IO relay with no engine and no store. A socket joins the room named in its
 * handshake; each `command` it sends is acknowledged with the room's next version and forwarded to the
 * other sockets of the room as an `update`. This is the least a real-time turn can cost on Socket.IO.
 *
 * Run: `node --import tsx bench/relay-server.ts` with PORT (0 = free port). Prints `listening <port>` once ready.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";

interface RelayEnvelope {
  id: string;
  command: unknown;
}

/** Starts the relay on `port` (0 = any free port) and resolves with the bound port and a close function. */
export async function startRelay(port: number, host = "127.0.0.1"): Promise<{ port: number; close(): Promise<void> }> {
  const http = createServer();
  const io = new Server(http, { transports: ["websocket"], maxHttpBufferSize: 64 * 1024 });
  const versions = new Map<string, number>();
  io.on("connection", (socket) => {
    const auth = socket.handshake.auth as { room?: unknown };
    const room = typeof auth.room === "string" && auth.room.length <= 64 ? auth.room : null;
    if (!room) {
      socket.disconnect(true);
      return;
    }
    void socket.join(room);
    socket.on("command", (envelope: RelayEnvelope, ack: unknown) => {
      if (typeof ack !== "function") return;
      const version = (versions.get(room) ?? 0) + 1;
      versions.set(room, version);
      ack({ ok: true, version });
      socket.to(room).emit("update", { version, envelope });
    });
    socket.on("disconnect", () => {
      if (io.sockets.adapter.rooms.get(room) === undefined) versions.delete(room);
    });
  });
  await new Promise<void>((resolve) => http.listen(port, host, resolve));
  return {
    port: (http.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        io.close(() => resolve());
      }),
  };
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, "/"));
if (isMain) {
  const relay = await startRelay(Number(process.env.PORT ?? 0));
  console.log(`listening ${relay.port}`);
  const stop = () => {
    void relay.close().then(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
