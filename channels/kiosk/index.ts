/**
 * kiosk: the touch screen at the building's gate.
 *
 * - `GET /kiosk?kiosk=gate-1` — a full-screen Arabic page with an on-screen keypad (large
 *   keys filling a portrait screen, digits in the DIGITS style), the answer in large type, the
 *   office's name, phone and hours, and a reset to the start screen
 *   after 60 s idle (`?idle=2` seconds, or the page's `data-idle-ms`, for tests and
 *   installers). Only the coarse status shows unless the citizen keys in the verifier (the
 *   last 4 digits of their mobile) too, masked on the screen. The page POSTs to `/kiosk/answer`
 *   with fetch; without JavaScript its form still works (a POST to the same page), so the
 *   verifier never enters an address (history, access logs).
 * - `POST /kiosk/answer` (form body `number`, `verifier`, `lang`; the kiosk in the query) and
 *   `GET /kiosk/answer?kiosk=&number=&verifier=&lang=` — `{ outcome, html }`, the answer
 *   rendered by this plugin's templates, with the same statuses as the web API.
 *
 * A kiosk id is not a secret, so kiosks are registered (`KIOSKS=<id>:<secret>[@<cidr>|<cidr>…],…`):
 * the kiosk proves itself with its secret (the `x-kiosk-key` header, or `key=` in the page's
 * address, which the page then sends as that header), from one of its networks when any are
 * listed. Unknown ids and wrong keys are refused alike (401), before any inquiry, so a
 * stranger can neither ask in a kiosk's name nor use up its rate limit. The registered kiosk
 * id and the client's address are the rate-limit identities. With KIOSKS unset (allowed only
 * with DEV_INSECURE=1) any well-formed id is taken at its word.
 *
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { BlockList, isIP } from "node:net";
import {
  definePlugin,
  setting,
  langOf,
  parseForm,
  queryValue,
  retryAfterSeconds,
  withDisplayNumbers,
  type ChannelContext,
  type ChannelRequest,
  type ChannelResponse,
  type InquiryAnswer,
  type Lang,
  type Office,
} from "../contract.ts";

export interface KioskConfig {
  /** Idle time before the screen resets (default 60 s). */
  idleMs: number;
  /** The registered kiosks by id (KIOSKS); undefined: none registered, any id is accepted (development only). */
  kiosks?: Map<string, RegisteredKiosk>;
  /** The digits of the Arabic screen (DIGITS): one style for keys, fields and answers. */
  digits: "latin" | "arabic";
  /** The office named on the screen (OFFICE_*). */
  office: Office;
}

/** A kiosk of KIOSKS: its id, its secret and, when listed, the networks it may ask from. */
export interface RegisteredKiosk {
  id: string;
  secret: string;
  /** Undefined: any address. */
  networks?: BlockList;
}

export interface KioskQuestion {
  /** The kiosk id, or undefined when missing or malformed. */
  kiosk: string | undefined;
  /** The kiosk's secret as presented (`x-kiosk-key` header or `key=`), or undefined. */
  key: string | undefined;
  lang: Lang;
  number: string;
  verifier: string;
  asked: boolean;
  /** The idle reset, from `?idle=<seconds>` (1..3600) or the configured default. */
  idleMs: number;
}

const KIOSK_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/;
const KIOSK_SECRET = /^[A-Za-z0-9_.~+/=-]{16,200}$/;

/**
 * Reads KIOSKS: comma-separated `<id>:<secret>`, each optionally followed by `@` and the
 * networks it may ask from (`|`-separated addresses or CIDRs, IPv4 or IPv6). Throws with
 * the reason for a malformed list; undefined for an unset one.
 *
 * @example
 *   parseKiosks("gate-1:0123456789abcdef@10.1.2.0/24|10.1.3.7,lobby:fedcba9876543210")
 *   // Map { "gate-1" → { secret, networks: 10.1.2.0/24 and 10.1.3.7 }, "lobby" → { secret } }
 */
export function parseKiosks(raw: string | undefined): Map<string, RegisteredKiosk> | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  const kiosks = new Map<string, RegisteredKiosk>();
  for (const item of raw.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^([^:@]+):([^@]*)(?:@(.*))?$/.exec(item);
    const id = m?.[1] ?? item.split(":")[0]!;
    if (!m || !KIOSK_ID.test(id)) throw new Error(`"${id.slice(0, 40)}": expected <id>:<secret>[@<cidr>|<cidr>…] with an id of letters, digits, . _ -`);
    if (!KIOSK_SECRET.test(m[2]!)) throw new Error(`kiosk "${id}": the secret must be 16 to 200 characters of letters, digits and _ . ~ + / = -`);
    if (kiosks.has(id)) throw new Error(`kiosk "${id}" is listed twice`);
    const kiosk: RegisteredKiosk = { id, secret: m[2]! };
    if (m[3] !== undefined) {
      kiosk.networks = new BlockList();
      for (const net of m[3].split("|").map((s) => s.trim())) {
        const [address = "", bits] = net.split("/");
        const family = isIP(address);
        const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
        if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) throw new Error(`kiosk "${id}": "${net}" is not an address or CIDR`);
        kiosk.networks.addSubnet(address, prefix, family === 6 ? "ipv6" : "ipv4");
      }
    }
    kiosks.set(id, kiosk);
  }
  return kiosks;
}

const sameSecret = (a: string, b: string) =>
  timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());

/** Why a kiosk's request is refused, in the API's error shape, or undefined when it may ask. */
export function refusal(q: KioskQuestion, req: ChannelRequest, config: KioskConfig): { status: number; error: { code: string; message: string; messageAr: string } } | undefined {
  if (!q.kiosk) {
    return {
      status: 400,
      error: {
        code: "INVALID_KIOSK",
        message: "The kiosk id is missing or invalid: add ?kiosk=<id> (letters, digits, . _ -) to the kiosk's address",
        messageAr: "معرّف الجهاز مفقود أو غير صحيح: أضف ‎?kiosk=<المعرف>‎ إلى عنوان صفحة الجهاز",
      },
    };
  }
  if (!config.kiosks) return undefined;
  const kiosk = config.kiosks.get(q.kiosk);
  // An unknown id and a wrong key answer alike: registered ids cannot be found out.
  if (!kiosk || !q.key || !sameSecret(q.key, kiosk.secret)) {
    return {
      status: 401,
      error: {
        code: "KIOSK_NOT_REGISTERED",
        message: "This kiosk is not registered or its key is wrong; do not retry: the operator must set the kiosk's address with its id and key (KIOSKS)",
        messageAr: "هذا الجهاز غير مسجل أو مفتاحه غير صحيح، يرجى مراجعة موظف الاستقبال",
      },
    };
  }
  const family = isIP(req.ip) === 6 ? "ipv6" : "ipv4";
  if (kiosk.networks && !(isIP(req.ip) && kiosk.networks.check(req.ip, family))) {
    return {
      status: 403,
      error: {
        code: "KIOSK_ADDRESS_REFUSED",
        message: "This kiosk may not ask from this network; do not retry: the operator must add the address to the kiosk's networks (KIOSKS)",
        messageAr: "لا يُسمح لهذا الجهاز بالاستعلام من هذه الشبكة، يرجى مراجعة موظف الاستقبال",
      },
    };
  }
  return undefined;
}

/** Reads the query (and the `x-kiosk-key` header) of the page or of `/kiosk/answer`. */
export function parseKioskQuery(query: ChannelRequest["query"], config: KioskConfig, headers: ChannelRequest["headers"] = {}): KioskQuestion {
  const kiosk = queryValue(query, "kiosk");
  const key = headers["x-kiosk-key"] ?? queryValue(query, "key");
  const idle = Number(queryValue(query, "idle"));
  return {
    kiosk: kiosk && KIOSK_ID.test(kiosk) ? kiosk : undefined,
    key: key && KIOSK_SECRET.test(key) ? key : undefined,
    lang: langOf(queryValue(query, "lang")),
    number: (queryValue(query, "number") ?? "").slice(0, 100),
    verifier: (queryValue(query, "verifier") ?? "").slice(0, 20),
    asked: queryValue(query, "number") !== undefined,
    idleMs: Number.isFinite(idle) && idle >= 1 && idle <= 3600 ? Math.round(idle * 1000) : config.idleMs,
  };
}

/**
 * The question of a request: the query, and for a POST its form fields (which win), so the
 * number and the verifier can travel in a body rather than in the address.
 */
export function parseKioskRequest(req: ChannelRequest, config: KioskConfig): KioskQuestion {
  const form = req.method === "POST" ? parseForm(req.rawBody) : {};
  const query = { ...req.query };
  for (const k of ["number", "verifier", "lang"]) if (form[k] !== undefined) query[k] = form[k]!;
  return parseKioskQuery(query, config, req.headers);
}

/** Same statuses as the web channel. */
export function statusOf(answer: InquiryAnswer): number {
  return { found: 200, "invalid-number": 400, "invalid-verifier": 400, "not-found": 404, "rate-limited": 429, unavailable: 503 }[answer.outcome];
}

/** The answer as an HTML fragment in large type. */
export function renderAnswer(answer: InquiryAnswer, ctx: Pick<ChannelContext<Pick<KioskConfig, "digits">>, "templates" | "format" | "config">, lang: Lang): string {
  const shown = withDisplayNumbers(answer);
  return ctx.templates.render("answer.html", lang, {
    answer: shown,
    details: (shown.outcome === "found" && shown.details) || {},
    wait: answer.outcome === "rate-limited" ? ctx.format.waitTime(answer.retryAfterMs, lang, { seconds: true }) : "",
    digits: ctx.config.digits,
  });
}

function ask(q: KioskQuestion, req: ChannelRequest, ctx: ChannelContext<KioskConfig>): Promise<InquiryAnswer> {
  return ctx.inquiry.ask({
    number: q.number,
    verifier: q.verifier,
    identities: [
      { kind: "kiosk", value: q.kiosk! },
      { kind: "ip", value: req.ip },
    ],
  });
}

const headers = (nonce: string, lang: Lang): Record<string, string> => ({
  "content-type": "text/html; charset=utf-8",
  "content-language": lang,
  "content-security-policy": `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
});

const retryAfter = (answer: InquiryAnswer | undefined): Record<string, string> =>
  answer?.outcome === "rate-limited" ? { "retry-after": String(retryAfterSeconds(answer.retryAfterMs)) } : {};

/** The kiosk page: the keypad, and the answer when the (no-JavaScript) form asked; or why the kiosk is refused. */
export function renderPage(
  q: KioskQuestion,
  answer: InquiryAnswer | undefined,
  ctx: Pick<ChannelContext<Pick<KioskConfig, "digits" | "office">>, "templates" | "format" | "config">,
  nonce: string,
  refused?: ReturnType<typeof refusal>,
): string {
  const digits = q.lang === "ar" ? ctx.config.digits : "latin";
  const label = (d: string) => (digits === "arabic" ? ctx.format.arabicDigits(d) : d);
  const office = ctx.config.office;
  const start = new URLSearchParams({ kiosk: q.kiosk ?? "" });
  if (q.key) start.set("key", q.key);
  const switchQuery = new URLSearchParams(start);
  if (q.lang === "ar") switchQuery.set("lang", "en");
  if (q.idleMs) switchQuery.set("idle", String(q.idleMs / 1000));
  return ctx.templates.render("page.html", q.lang, {
    lang: q.lang,
    dir: q.lang === "ar" ? "rtl" : "ltr",
    nonce,
    kiosk: refused ? "" : q.kiosk ?? "",
    key: refused ? "" : q.key ?? "",
    refused: refused?.error ?? false,
    idleMs: q.idleMs,
    switchHref: `?${switchQuery.toString()}`,
    againHref: `?${start.toString()}${q.lang === "en" ? "&lang=en" : ""}`,
    form: { number: q.number, verifier: q.verifier },
    asked: !!answer,
    answerHtml: answer ? renderAnswer(answer, ctx, q.lang) : "",
    digits,
    office: { name: q.lang === "ar" ? office.nameAr : office.nameEn, phone: office.phone, hours: q.lang === "ar" ? office.hoursAr : office.hoursEn },
    keys: ["1", "2", "3", "4", "5", "6", "7", "8", "9"].map((d) => ({ value: d, label: label(d) })),
    zero: { value: "0", label: label("0") },
  });
}

function refused(q: KioskQuestion, req: ChannelRequest, ctx: ChannelContext<KioskConfig>): ReturnType<typeof refusal> {
  const r = refusal(q, req, ctx.config);
  if (r && r.status !== 400) ctx.logger.warn(`kiosk "${q.kiosk}" refused (${r.error.code}) from ${req.ip}`);
  return r;
}

async function page(req: ChannelRequest, ctx: ChannelContext<KioskConfig>): Promise<ChannelResponse> {
  const q = parseKioskRequest(req, ctx.config);
  const refuse = refused(q, req, ctx);
  const answer = !refuse && q.asked ? await ask(q, req, ctx) : undefined;
  const nonce = randomBytes(16).toString("base64");
  return {
    status: refuse ? refuse.status : answer ? statusOf(answer) : 200,
    headers: { ...headers(nonce, q.lang), ...retryAfter(answer) },
    body: renderPage(q, answer, ctx, nonce, refuse),
  };
}

async function answerRoute(req: ChannelRequest, ctx: ChannelContext<KioskConfig>): Promise<ChannelResponse> {
  const q = parseKioskRequest(req, ctx.config);
  const json = (status: number, body: object, extra: Record<string, string> = {}): ChannelResponse => ({
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...extra },
    body: JSON.stringify(body),
  });
  const refuse = refused(q, req, ctx);
  if (refuse) return json(refuse.status, { error: refuse.error });
  const answer = await ask(q, req, ctx);
  return json(
    statusOf(answer),
    {
      outcome: answer.outcome,
      ...(answer.outcome === "found" ? { stage: answer.stage, level: answer.level } : {}),
      html: renderAnswer(answer, ctx, q.lang),
    },
    retryAfter(answer),
  );
}

export default definePlugin({
  name: "kiosk",
  description: "touch-screen kiosk page with an on-screen keypad",
  env: {
    kiosks: setting("KIOSKS", "the registered kiosks, `<id>:<secret>[@<cidr>|<cidr>…],…` (secret 16+ characters)", { secret: true, parse: parseKiosks }),
  },
  config: ({ kiosks }, host): KioskConfig => ({ idleMs: 60_000, kiosks, digits: host.digits, office: host.office }),
  routes: [
    { method: "GET", path: "/kiosk", handler: page },
    { method: "POST", path: "/kiosk", handler: page },
    { method: "GET", path: "/kiosk/answer", handler: answerRoute },
    { method: "POST", path: "/kiosk/answer", handler: answerRoute },
  ],
});
