// `npm run staff -- <command> <user> …`: the console's accounts, from the command line.
//   add <user> --role <viewer|followup|manager|admin> [--departments A,B]
//                    creates or replaces an account; a replaced account's sessions end
//   reset <user>     a new password; every session of the account ends
//   disable <user>   the account can no longer sign in; its sessions end at once
//   enable <user>    it can sign in again (the sessions ended by disable stay ended)
//   signout <user>   signs the account out everywhere (every session ends)
// The password of add and reset is read from stdin when it is piped in
// (`printf '%s' "$PW" | npm run staff -- add …`), else generated and printed once.
// Each command is written to the console's audit log (actor `cli`).
// Uses MONGO_URL, or the embedded database under DATA_DIR when it is unset.
import { loadConfig, ConfigError } from "../core/platform/config.ts";
import { connectDatabase, disconnectDatabase } from "../core/store/db.ts";
import { startFerretDB, type LocalServer } from "../core/platform/servers.ts";
import { endStaffSessions, generatePassword, putStaffUser, resetStaffPassword, ROLES, setStaffDisabled, USERNAME, type Role } from "../core/console/accounts.ts";
import { audit } from "../core/console/audit.ts";

const USAGE = [
  `usage: npm run staff -- add <user> --role ${ROLES.join("|")} [--departments CODE,CODE]   (password from stdin, or generated)`,
  `       npm run staff -- reset <user>     (new password from stdin, or generated; signs the user out everywhere)`,
  `       npm run staff -- disable <user> | enable <user> | signout <user>`,
].join("\n");

type Command =
  | { command: "add"; username: string; role: Role; departments?: string[] }
  | { command: "reset" | "disable" | "enable" | "signout"; username: string };

/** The command line's parts; throws a message for the user on a bad one. */
function parseStaffArgs(argv: string[]): Command {
  const [command, raw, ...rest] = argv;
  if (!raw || raw.startsWith("--")) throw new Error(USAGE);
  const username = raw.toLowerCase();
  if (command === "reset" || command === "disable" || command === "enable" || command === "signout") {
    if (rest.length) throw new Error(USAGE);
    if (!USERNAME.test(username)) throw new Error(`not a user name: ${raw}`);
    return { command, username };
  }
  if (command !== "add") throw new Error(USAGE);
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
  return { command, username, role, ...(departments ? { departments } : {}) };
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
  const needsPassword = args.command === "add" || args.command === "reset";
  const piped = needsPassword ? await readStdin() : undefined;
  const password = needsPassword ? (piped ?? generatePassword()) : "";
  let url = config.mongoUrl;
  if (!url) {
    db = await startFerretDB({ dataDir: config.dataDir });
    url = db.url;
  }
  await connectDatabase(url);
  const target = `staff:${args.username}`;
  const missing = () => new Error(`no staff account ${args.username}`);
  switch (args.command) {
    case "add": {
      const { command: _, ...account } = args;
      const user = await putStaffUser({ ...account, password });
      await audit({ actor: "cli", action: "staff-added", target, after: { ...user, sessionsEnded: true } });
      console.log(`staff account ${user.username} (${user.role}${user.departments ? `: ${user.departments.join(", ")}` : ""}) saved; sign in at /console/login`);
      break;
    }
    case "reset":
      if (!(await resetStaffPassword(args.username, password))) throw missing();
      await audit({ actor: "cli", action: "staff-password-reset", target, after: { sessionsEnded: true } });
      console.log(`staff account ${args.username}: new password set; every session of the account ended`);
      break;
    case "disable":
    case "enable": {
      const disabled = args.command === "disable";
      if (!(await setStaffDisabled(args.username, disabled))) throw missing();
      await audit({ actor: "cli", action: disabled ? "staff-disabled" : "staff-enabled", target, after: { disabled, ...(disabled ? { sessionsEnded: true } : {}) } });
      console.log(`staff account ${args.username} ${disabled ? "disabled; every session of the account ended" : "enabled"}`);
      break;
    }
    case "signout":
      if (!(await endStaffSessions(args.username))) throw missing();
      await audit({ actor: "cli", action: "staff-signed-out", target, after: { sessionsEnded: true } });
      console.log(`staff account ${args.username}: signed out everywhere`);
      break;
  }
  if (needsPassword && !piped) console.log(`password (shown once, not stored in clear): ${password}`);
} catch (err) {
  if (err instanceof ConfigError) console.error(`Configuration error — ${err.message}`);
  else console.error((err as Error).message);
  process.exitCode = 1;
} finally {
  await disconnectDatabase().catch(() => undefined);
  await db?.stop();
}
