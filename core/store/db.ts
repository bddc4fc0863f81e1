// One MongoDB connection per process (mongoose's default connection), shared by every
// service of the process and by Agenda.
import mongoose from "mongoose";
import type { Db } from "mongodb";
import { createMissingCollections, ensureIndexes } from "./indexes.ts";

let connecting: Promise<typeof mongoose> | undefined;

/**
 * Database round-trips of this process by command name, from the driver's command monitoring:
 * what the benchmarks print beside their figures and /metrics exports.
 */
export const databaseCommands = new Map<string, number>();

let watchdog: NodeJS.Timeout | undefined;

const HEARTBEAT_MS = 2000;
const CONNECT_TIMEOUT_MS = 10_000;
/** A check that has been silent this long is wedged: a healthy one ends within the connect timeout. */
export const MONITOR_SILENCE_MS = CONNECT_TIMEOUT_MS + 3 * HEARTBEAT_MS;

/**
 * Restarts the driver's server monitor when it has gone silent. With the driver of mongodb 7.8,
 * a heartbeat can wait forever on a monitoring connection that closed under it (seen as: monitor
 * "monitoring", its connection closed, its check never ending); the server then stays Unknown
 * and every operation fails server selection until the process restarts. Seen with a proxy
 * that cuts every connection at once (test/resilience/database-cut.test.ts), about one cut in five.
 * A monitor emits a heartbeat event at least every connect timeout; silence past that is the
 * wedge, and closing and reconnecting the monitor is the driver's own way to start it afresh.
 */
function watchMonitors(client: mongoose.mongo.MongoClient, log: { error(...a: unknown[]): void }): NodeJS.Timeout {
  let lastHeartbeat = Date.now();
  for (const e of ["serverHeartbeatStarted", "serverHeartbeatSucceeded", "serverHeartbeatFailed"] as const) {
    client.on(e, () => (lastHeartbeat = Date.now()));
  }
  const timer = setInterval(() => {
    if (Date.now() - lastHeartbeat < MONITOR_SILENCE_MS) return;
    // Internal API, guarded: a driver without it is left as it is.
    const servers: Map<string, any> | undefined = (client as any).topology?.s?.servers;
    for (const [address, server] of servers ?? []) {
      const monitor = server?.monitor;
      if (typeof monitor?.close !== "function" || typeof monitor?.connect !== "function") continue;
      log.error(`database monitor of ${address} silent for ${Date.now() - lastHeartbeat} ms: restarted`);
      monitor.close();
      monitor.connect();
    }
    lastHeartbeat = Date.now();
  }, HEARTBEAT_MS);
  timer.unref();
  return timer;
}

/**
 * Connects once (later calls share the first connection) and creates the indexes.
 *
 * @example
 *   await connectDatabase("mongodb://127.0.0.1:27017/taqib", logger);
 */
export async function connectDatabase(url: string, log: { error(...a: unknown[]): void } = console): Promise<void> {
  connecting ??= (async () => {
    mongoose.set("strictQuery", true);
    // Replies must not wait forever on a lost database: fail fast and let the caller retry.
    const m = await mongoose.connect(url, {
      serverSelectionTimeoutMS: 10000,
      heartbeatFrequencyMS: HEARTBEAT_MS,
      connectTimeoutMS: CONNECT_TIMEOUT_MS,
      maxPoolSize: 50,
      autoIndex: false,
      // Collections are created once, below, only when missing: creating existing ones on every
      // start fails with NamespaceExists, and the server logs each failure.
      autoCreate: false,
      monitorCommands: true,
    });
    m.connection.getClient().on("commandStarted", (e) => databaseCommands.set(e.commandName, (databaseCommands.get(e.commandName) ?? 0) + 1));
    watchdog = watchMonitors(m.connection.getClient(), log);
    await createMissingCollections(m.connection.db as unknown as Db);
    await ensureIndexes();
    return m;
  })();
  try {
    await connecting;
  } catch (err) {
    connecting = undefined;
    throw err;
  }
}

/** The native driver database of the shared connection (Agenda, raw queries). */
export function nativeDb(): Db {
  const db = mongoose.connection.db;
  if (!db) throw new Error("database not connected");
  return db as unknown as Db;
}

/** True when the database answers a ping within timeoutMs. */
export async function databaseReachable(timeoutMs = 2000): Promise<boolean> {
  if (mongoose.connection.readyState !== 1 || !mongoose.connection.db) return false;
  try {
    await Promise.race([
      mongoose.connection.db.admin().ping(),
      new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), timeoutMs)),
    ]);
    return true;
  } catch {
    return false;
  }
}

export async function disconnectDatabase(): Promise<void> {
  const c = connecting;
  connecting = undefined;
  clearInterval(watchdog);
  if (c) await mongoose.disconnect().catch(() => undefined);
}

/** Duplicate key error of MongoDB (E11000). */
export function isDuplicateKey(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: number }).code === 11000;
}

/** True when a bulk insert failed only because some ids exist already. */
export function onlyDuplicateKeys(err: unknown): boolean {
  const writeErrors = (err as { writeErrors?: Array<{ code?: number; err?: { code?: number } }> }).writeErrors;
  if (writeErrors?.length) return writeErrors.every((e) => (e.code ?? e.err?.code) === 11000);
  return isDuplicateKey(err);
}

/**
 * The most values an `$in` may hold and still be answered through an index by the embedded
 * database (its pushdown's limit); batches are sized to stay under it, and findByIds splits.
 */
export const IN_LIMIT = 1000;

/**
 * The documents with these _ids, read in chunks of IN_LIMIT (one round-trip each).
 *
 * @example
 *   const parts = await findByIds(SmsPartModel.collection, ids);
 */
export async function findByIds(collection: { find(filter: object, options?: object): { toArray(): Promise<any[]> } }, ids: readonly unknown[], options?: object): Promise<any[]> {
  const out: any[] = [];
  for (let i = 0; i < ids.length; i += IN_LIMIT) out.push(...(await collection.find({ _id: { $in: ids.slice(i, i + IN_LIMIT) } }, options).toArray()));
  return out;
}
