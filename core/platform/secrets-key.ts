// SECRETS_KEY: the keys that encrypt agencies' signing secrets at rest (AES-256-GCM). The
// first key encrypts; every key decrypts, so a key can be rotated without losing secrets.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/** A secret as stored: which key, the GCM nonce and tag, and the ciphertext (base64). */
export interface EncryptedSecret {
  keyId: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

/** Why a stored secret could not be decrypted: its key is not in SECRETS_KEY, or the key does not fit. */
export class SecretsKeyError extends Error {
  constructor(public readonly keyId: string, public readonly reason: "unknown-key" | "wrong-key", message: string) {
    super(message);
    this.name = "SecretsKeyError";
  }
}

const KEY_ID = /^[A-Za-z0-9_.-]{1,32}$/;

/**
 * The parsed SECRETS_KEY. The key bytes live in private fields: the keyring serialises to
 * its key ids only, so the configuration can be printed or serialised without it.
 *
 * @example
 *   const keys = SecretsKeyring.parse("k2:<base64 of 32 bytes>,k1:<base64 of 32 bytes>");
 *   const stored = keys.encrypt("whsec_…", "MOI/1f3c…"); // { keyId: "k2", iv, tag, ciphertext }
 *   keys.decrypt(stored, "MOI/1f3c…");                     // "whsec_…"
 */
export class SecretsKeyring {
  readonly #keys: Map<string, Buffer>;
  /** The id of the key that encrypts (the first one). */
  readonly currentId: string;

  private constructor(keys: Map<string, Buffer>) {
    this.#keys = keys;
    this.currentId = keys.keys().next().value!;
  }

  /** Reads `<keyId>:<base64 of 32 bytes>[,<keyId>:<base64>...]`; throws an Error saying what is wrong. */
  static parse(raw: string): SecretsKeyring {
    const keys = new Map<string, Buffer>();
    for (const item of raw.split(",").map((s) => s.trim()).filter(Boolean)) {
      const i = item.indexOf(":");
      const id = i > 0 ? item.slice(0, i) : "";
      if (!KEY_ID.test(id)) throw new Error(`each key is "<keyId>:<base64 of 32 bytes>" with a key id of 1 to 32 letters, digits, '.', '_' or '-'`);
      const bytes = Buffer.from(item.slice(i + 1), "base64");
      if (bytes.length !== 32) throw new Error(`key "${id}" is not 32 bytes of base64 (got ${bytes.length} bytes); make one with: openssl rand -base64 32`);
      if (keys.has(id)) throw new Error(`key id "${id}" appears twice`);
      keys.set(id, bytes);
    }
    if (!keys.size) throw new Error("no key given");
    return new SecretsKeyring(keys);
  }

  /** A new SECRETS_KEY value with one random key. */
  static generate(keyId = "k1"): string {
    return `${keyId}:${randomBytes(32).toString("base64")}`;
  }

  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  /** Encrypts under the current key; `context` (associated data) binds the ciphertext to its owner. */
  encrypt(plaintext: string, context: string): EncryptedSecret {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#keys.get(this.currentId)!, iv);
    cipher.setAAD(Buffer.from(context, "utf8"));
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return { keyId: this.currentId, iv: iv.toString("base64"), tag: cipher.getAuthTag().toString("base64"), ciphertext: ciphertext.toString("base64") };
  }

  /** Decrypts with the key the secret names; throws SecretsKeyError when that key is absent or does not fit. */
  decrypt(stored: EncryptedSecret, context: string): string {
    const key = this.#keys.get(stored.keyId);
    if (!key) throw new SecretsKeyError(stored.keyId, "unknown-key", `key id "${stored.keyId}" is not in SECRETS_KEY (it holds ${this.keyIds.join(", ")})`);
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(stored.iv, "base64"));
      decipher.setAAD(Buffer.from(context, "utf8"));
      decipher.setAuthTag(Buffer.from(stored.tag, "base64"));
      return Buffer.concat([decipher.update(Buffer.from(stored.ciphertext, "base64")), decipher.final()]).toString("utf8");
    } catch {
      throw new SecretsKeyError(stored.keyId, "wrong-key", `the key with id "${stored.keyId}" in SECRETS_KEY does not decrypt it (another key under the same id, or the data was altered)`);
    }
  }

  toJSON(): { keyIds: string[] } {
    return { keyIds: this.keyIds };
  }
}

/**
 * The embedded quickstart's key: read from `<dataDir>/secrets.key`, or made there (mode 0600)
 * on the first start, so the secrets of the embedded database survive restarts.
 */
export function embeddedSecretsKey(dataDir: string): { keyring: SecretsKeyring; file: string; created: boolean } {
  const file = path.join(dataDir, "secrets.key");
  let created = false;
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    try {
      fs.writeFileSync(file, `${SecretsKeyring.generate()}\n`, { mode: 0o600, flag: "wx" });
      created = true;
    } catch (err: any) {
      if (err?.code !== "EEXIST") throw err;
    }
  }
  return { keyring: SecretsKeyring.parse(fs.readFileSync(file, "utf8").trim()), file, created };
}
