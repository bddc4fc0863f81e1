// A TCP proxy in front of a real database server that can make the database "die" at an
// exact point of the wire conversation: when a request carrying given bytes goes by, every
// connection is cut and new ones are refused until `restore()`. Crash windows that a kill
// from outside hits only by chance are hit every time.
import net from "node:net";

export interface DbProxy {
  url: string;
  /** Cuts everything at the first request containing all of `markers` (e.g. a collection name and an id). */
  cutOn(...markers: string[]): Promise<void>;
  /** Accepts connections again. */
  restore(): void;
  close(): Promise<void>;
}

/**
 * @example
 *   const proxy = await startDbProxy(db.url);
 *   const cut = proxy.cutOn("transactions", "22000000"); // resolves when it happened
 *   ...; await cut; proxy.restore();
 */
export async function startDbProxy(upstreamUrl: string): Promise<DbProxy> {
  const upstream = new URL(upstreamUrl);
  const sockets = new Set<net.Socket>();
  let down = false;
  let trigger: { markers: Buffer[]; fire(): void } | undefined;

  const cutAll = () => {
    down = true;
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  const server = net.createServer((client) => {
    if (down) return void client.destroy();
    const server = net.connect(Number(upstream.port), upstream.hostname);
    sockets.add(client).add(server);
    const close = () => {
      client.destroy();
      server.destroy();
      sockets.delete(client);
      sockets.delete(server);
    };
    client.on("error", close).on("close", close);
    server.on("error", close).on("close", close);
    server.pipe(client);
    client.on("data", (chunk: Buffer) => {
      if (trigger && trigger.markers.every((m) => chunk.includes(m))) {
        const fired = trigger;
        trigger = undefined;
        cutAll();
        fired.fire();
        return; // the request never reaches the server
      }
      server.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `mongodb://127.0.0.1:${port}${upstream.pathname}${upstream.search}`,
    cutOn: (...markers) => new Promise<void>((fire) => (trigger = { markers: markers.map((m) => Buffer.from(m)), fire })),
    restore: () => {
      down = false;
    },
    close: async () => {
      cutAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
