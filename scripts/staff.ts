// `npm run staff -- add <user> --role <viewer|followup|manager|admin> [--departments A,B]`:
// creates or replaces a console account. The password is read from stdin when it is piped
// in (`printf '%s' "$PW" | npm run staff -- add …`), else generated and printed once.
// Uses MONGO_URL, or the embedded database under DATA_DIR when it is unset.
import { loadConfig, ConfigError } from "../core/platform/config.ts";
import { connectDatabase, disconnectDatabase } from "../core/store/db.ts";
import { startFerretDB, type LocalServer } from "../core/platform/servers.ts";
import { generatePassword, putStaffUser, ROLES, type Role } from "../core/console/accounts.ts";
import { audit } from "../core/console/audit.ts";

const USAGE = `usage: npm run staff -- add <user> --role ${ROLES.join("|")} [--departments CODE,CODE]   (password from stdin, or generated)`;

/** The command line's parts; throws a message for the user on a bad one. */
function parseStaffArgs(argv: string[]): { username: string; role: Role; departments?: string[] } {
  const [command, username, ...rest] = argv;
  if (command !== "add" || !username || username.startsWith("--")) throw new Error(USAGE);
  const opts: Record<string, string> = {};
  for (let i = 0; i < rest.length; i += 2) {
    const k = rest[i]!;
    const v = rest[i + 1];
    if (!k.startsWith("--") || v === undefined) throw new Error(USAGE);
    opts[k.slice(2)] = v;
  }
  const role = opts.role as Role;
  if (!ROLES.includes(role)) throw new Error(`--role must be one of ${ROLES.join(", ")}\n${USAGE}`);
  const departments = opts.departments?.split(",").map((d) => d.trim()).filter(Boolean);
  return { username, role, ...(departments ? { departments } : {}) };
}

async function readStdin(): Promise<string | undefined> {
  if (process.stdin.isTTY) return undefined;
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
  return text || undefined;
}

let db: LocalServer | undefined;
try {
  const args = parseStaffArgs(process.argv.slice(2));
  // Only the database settings matter here: no service of this process needs its secrets.
  const config = loadConfig({ ...process.env, SERVICES: "api" });
  const piped = await readStdin();
  const password = piped ?? generatePassword();
  let url = config.mongoUrl;
  if (!url) {
    db = await startFerretDB({ dataDir: config.dataDir });
    url = db.url;
  }
  await connectDatabase(url);
  const user = await putStaffUser({ ...args, password });
  await audit({ actor: "cli", action: "staff-added", target: `staff:${user.username}`, after: user });
  console.log(`staff account ${user.username} (${user.role}${user.departments ? `: ${user.departments.join(", ")}` : ""}) saved; sign in at /console/login`);
  if (!piped) console.log(`password (shown once, not stored in clear): ${password}`);
} catch (err) {
  if (err instanceof ConfigError) console.error(`Configuration error — ${err.message}`);
  else console.error((err as Error).message);
  process.exitCode = 1;
} finally {
  await disconnectDatabase().catch(() => undefined);
  await db?.stop();
}
