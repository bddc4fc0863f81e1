// Agencies' webhook signing secrets: one document each, encrypted at rest with SECRETS_KEY.
// Nothing is cached: a revoke takes effect at once on every node, as the next request reads.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { ConfigError } from "../platform/config.ts";
import { clientError, UnavailableError } from "../platform/errors.ts";
import { isDuplicateKey } from "../store/db.ts";
import { AgencyModel, AgencySecretModel, type AgencySecretDoc } from "./models.ts";
import { SecretsKeyError, type SecretsKeyring } from "../platform/secrets-key.ts";

/** A new `whsec_` secret: 32 random bytes, base64, as the Standard Webhooks spec has it. */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

/** The associated data of a secret's ciphertext: a ciphertext copied to another agency or id does not decrypt. */
const context = (agencyCode: string, secretId: string) => `${agencyCode}/${secretId}`;

/** What the staff API shows of a secret (never the secret itself). */
export interface SecretSummary {
  id: string;
  createdAt: Date;
  revokedAt?: Date;
  active: boolean;
}

/**
 * Issues a secret to an agency: one insert. The plaintext is answered once and never stored.
 *
 * @example
 *   const { id, secret } = await createAgencySecret(keys, "MOI"); // secret: "whsec_…"
 */
export async function createAgencySecret(keys: SecretsKeyring, agencyCode: string): Promise<{ id: string; secret: string }> {
  if (!(await AgencyModel.exists({ _id: agencyCode }))) throw clientError(404, "AGENCY_NOT_FOUND", `No agency ${agencyCode}`);
  const id = randomUUID();
  const secret = newSecret();
  await AgencySecretModel.create({ _id: id, agencyCode, createdAt: new Date(), ...keys.encrypt(secret, context(agencyCode, id)) });
  return { id, secret };
}

/**
 * Revokes one secret: a single conditional update, so concurrent revokes and creates all
 * take effect. Revoking a revoked secret again is answered the same (idempotent).
 */
export async function revokeAgencySecret(agencyCode: string, id: string): Promise<{ id: string; revoked: true }> {
  const r = await AgencySecretModel.updateOne({ _id: id, agencyCode, revokedAt: null }, { $set: { revokedAt: new Date() } });
  if (!r.matchedCount && !(await AgencySecretModel.exists({ _id: id, agencyCode }))) {
    throw clientError(404, "SECRET_NOT_FOUND", `No secret ${id} for agency ${agencyCode}`);
  }
  return { id, revoked: true };
}

/** The agency's secrets as the staff API lists them, oldest first. */
export async function agencySecretSummaries(agencyCode: string): Promise<SecretSummary[]> {
  const docs = await AgencySecretModel.find({ agencyCode }, { createdAt: 1, revokedAt: 1 }).sort({ createdAt: 1 }).lean();
  return docs.map((d) => ({ id: d._id, createdAt: d.createdAt, ...(d.revokedAt ? { revokedAt: d.revokedAt } : {}), active: !d.revokedAt }));
}

/**
 * The plaintext of the agency's active secrets, for checking a signature: none for an
 * unknown agency. A secret this node cannot decrypt is a 503 (retry) and logged: the nodes'
 * SECRETS_KEY differ.
 */
export async function activeAgencySecrets(keys: SecretsKeyring, agencyCode: string, log?: { error(...a: unknown[]): void }): Promise<string[]> {
  const docs = await AgencySecretModel.find({ agencyCode, revokedAt: null }).lean();
  return docs.map((d) => {
    try {
      return keys.decrypt(d, context(agencyCode, d._id));
    } catch (err) {
      if (!(err instanceof SecretsKeyError)) throw err;
      log?.error(`SECRETS_KEY: cannot decrypt secret ${d._id} of agency ${agencyCode}: ${err.message}`);
      throw new UnavailableError("SERVICE_UNAVAILABLE", "The agency's secrets cannot be read now; try again");
    }
  });
}

/** A secret as the first versions kept it, inside the agency document, in plaintext. */
interface EmbeddedSecret {
  id?: string;
  secret?: string;
  createdAt?: Date;
  revokedAt?: Date;
}

/**
 * Run once per start, before webhooks are answered; idempotent, and safe on several nodes at once:
 * 1. decrypts every stored secret, so a wrong SECRETS_KEY stops start-up (ConfigError naming
 *    the key id) before anything is written with it, instead of every signature failing later;
 *    those under an older key are re-encrypted with the current (first) one;
 * 2. moves secrets still embedded in agency documents (plaintext) to their own encrypted documents.
 *
 * @example
 *   const { migrated, reencrypted, checked } = await prepareAgencySecrets(config.secretsKey!);
 */
export async function prepareAgencySecrets(keys: SecretsKeyring): Promise<{ migrated: number; reencrypted: number; checked: number }> {
  let reencrypted = 0;
  const all = await AgencySecretModel.find({}).lean();
  for (const d of all) {
    let plaintext: string;
    try {
      plaintext = keys.decrypt(d, context(d.agencyCode, d._id));
    } catch (err) {
      if (!(err instanceof SecretsKeyError)) throw err;
      throw new ConfigError(
        "SECRETS_KEY",
        `cannot decrypt secret ${d._id} of agency ${d.agencyCode} stored under key id "${err.keyId}": ${err.message}. Start with the SECRETS_KEY the secrets were written with (to rotate, put the new key first and keep the old one after it).`,
      );
    }
    if (d.keyId === keys.currentId) continue;
    // Conditional on the old key: another node re-encrypting at the same time writes once.
    const r = await AgencySecretModel.updateOne({ _id: d._id, keyId: d.keyId }, { $set: keys.encrypt(plaintext, context(d.agencyCode, d._id)) });
    reencrypted += r.modifiedCount;
  }

  let migrated = 0;
  const embedded = await AgencyModel.collection.find({ secrets: { $exists: true } }, { projection: { secrets: 1 } }).toArray();
  for (const agency of embedded) {
    const code = String(agency._id);
    for (const s of (agency.secrets ?? []) as EmbeddedSecret[]) {
      if (!s.secret) continue;
      const id = s.id ?? createHash("sha256").update(`${code}/${s.secret}`).digest("hex").slice(0, 32);
      try {
        await AgencySecretModel.create({ _id: id, agencyCode: code, createdAt: s.createdAt ?? new Date(0), ...(s.revokedAt ? { revokedAt: s.revokedAt } : {}), ...keys.encrypt(s.secret, context(code, id)) });
        migrated++;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err; // moved already (by an earlier start or another node)
      }
    }
    await AgencyModel.collection.updateOne({ _id: agency._id }, { $unset: { secrets: "" } });
  }
  return { migrated, reencrypted, checked: all.length };
}
