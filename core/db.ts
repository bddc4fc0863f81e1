// One MongoDB connection per process (mongoose's default connection), shared by every
// service of the process and by Agenda.
import mongoose from "mongoose";
import type { Db } from "mongodb";
import { ensureIndexes } from "./models.ts";

let connecting: Promise<typeof mongoose> | undefined;

/**
 * Connects once (later calls share the first connection) and creates the indexes.
 *
 * @example
 *   await connectDatabase("mongodb://127.0.0.1:27017/taqib");
 */
export async function connectDatabase(url: string): Promise<void> {
  connecting ??= (async () => {
    mongoose.set("strictQuery", true);
    // Replies must not wait forever on a lost database: fail fast and let the caller retry.
    const m = await mongoose.connect(url, {
      serverSelectionTimeoutMS: 10000,
      heartbeatFrequencyMS: 2000,
      maxPoolSize: 50,
      autoIndex: false,
    });
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
