/**
 * A TCP proxy between a process and a shared service (PostgreSQL, Redis), so a test can make
 * the service "restart" as its clients see it without touching the server other sessions use:
 * `cut()` drops every connection and refuses new ones (nothing listens), `restore()` accepts
 * again on the same port. `stall()` holds what clients send, so a request is in flight when cut.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

export interface TcpProxy {
  port: number;
  /** Drops every open connection and stops listening: connecting is refused until `restore`. */
  cut(): Promise<void>;
  /** Listens again on the same port; connections are forwarded as before. */
  restore(): Promise<void>;
  /** Stops forwarding what clients send (connections stay open) until `cut`. */
  stall(): void;
  /** Connections accepted so far. */
  accepted(): number;
  close(): Promise<void>;
}

export async function tcpProxy(host: string, port: number): Promise<TcpProxy> {
  const open = new Set<Socket>();
  const clients = new Map<Socket, Socket>();
  let stalled = false;
  let accepted = 0;
  const server: Server = createServer((client) => {
    accepted += 1;
    const upstream = createConnection({ host, port });
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on("error", () => undefined);
      socket.on("close", () => {
        open.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    clients.set(client, upstream);
    client.on("close", () => clients.delete(client));
    if (stalled) client.pause();
    else client.pipe(upstream);
    upstream.pipe(client);
  });
  const listen = (at: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(at, "127.0.0.1", () => {
        server.removeListener("error", reject);
        resolve((server.address() as { port: number }).port);
      });
    });
  const bound = await listen(0);
  const cut = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of open) socket.destroy();
    stalled = false;
    await closed;
  };
  return {
    port: bound,
    cut,
    restore: async () => {
      await listen(bound);
    },
    stall: () => {
      stalled = true;
      for (const [client, upstream] of clients) {
        client.unpipe(upstream);
        client.pause();
      }
    },
    accepted: () => accepted,
    close: async () => {
      if (server.listening) await cut();
    },
  };
}
