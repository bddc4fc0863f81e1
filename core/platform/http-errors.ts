// One shape for every HTTP error Taqib answers: { error: { code, message, messageAr?, details? } }.
import type { IncomingMessage, ServerResponse } from "node:http";
import ApiGateway from "moleculer-web";
import { clientError, type ErrorBody } from "./errors.ts";
import { isTransientDbError } from "../store/retry.ts";
import { checkBodyText, checkQueryText } from "./strict-text.ts";

const AR: Record<string, string> = {
  INVALID_JSON: "تعذر قراءة الطلب: صيغة JSON غير صحيحة",
  BODY_TOO_LARGE: "حجم الطلب أكبر من المسموح",
  UNSUPPORTED_MEDIA_TYPE: "نوع المحتوى غير مدعوم",
  NOT_FOUND: "الصفحة أو المسار غير موجود",
  UNAUTHORIZED: "مفتاح الدخول مفقود أو غير صحيح",
  SERVICE_UNAVAILABLE: "الخدمة غير متاحة الآن، يرجى المحاولة لاحقاً",
  INTERNAL_ERROR: "حدث خطأ غير متوقع، يرجى المحاولة لاحقاً",
  RATE_LIMITED: "عدد المحاولات كبير، يرجى المحاولة بعد قليل",
  UNSUPPORTED_ENCODING: "ترميز محتوى الطلب غير مدعوم",
  UNSUPPORTED_CHARSET: "ترميز الأحرف في الطلب غير مدعوم",
  INVALID_BODY: "تعذر قراءة محتوى الطلب",
  INVALID_TEXT: "نص الطلب ليس نصًّا صحيحًا بترميز UTF-8",
  BAD_REQUEST: "الطلب غير صحيح",
  INVALID_PARAMS: "بعض مدخلات الطلب غير صحيحة",
};

/**
 * The HTTP status and body for any error a route meets: our client errors, body-parser
 * errors, Moleculer's and moleculer-web's own.
 *
 * @example
 *   httpError(Object.assign(new Error("x"), { type: "entity.too.large", status: 413 }))
 *   // { status: 413, body: { error: { code: "BODY_TOO_LARGE", ... } } }
 */
export function httpError(err: any): { status: number; body: ErrorBody; retryable: boolean } {
  const make = (status: number, code: string, message: string, details?: unknown, messageAr?: string) => ({
    status,
    retryable: status >= 500,
    body: { error: { code, message, ...((messageAr ?? AR[code]) ? { messageAr: messageAr ?? AR[code] } : {}), ...(details !== undefined ? { details } : {}) } },
  });
  // body-parser (raw-body) errors carry a type and an HTTP status.
  switch (err?.type) {
    case "entity.parse.failed":
      return make(400, "INVALID_JSON", "The body is not valid JSON");
    case "entity.too.large":
      return make(413, "BODY_TOO_LARGE", `The body is larger than ${err.limit ?? "the limit"} bytes`);
    case "encoding.unsupported":
    case "charset.unsupported":
      return make(415, "UNSUPPORTED_MEDIA_TYPE", err.message);
    case "request.aborted":
    case "request.size.invalid":
    case "stream.encoding.set":
      return make(400, "BAD_REQUEST", err.message);
  }
  const name = err?.name;
  if (name === "NotFoundError") return make(404, "NOT_FOUND", "No such endpoint");
  if (name === "ServiceNotFoundError" || name === "ServiceNotAvailableError" || name === "RequestTimeoutError") {
    return make(503, "SERVICE_UNAVAILABLE", "The service is not available now; try again");
  }
  // Moleculer's validator adds the node and action to each field's error: only the field and
  // what is wrong with it go out (a node id names the host).
  if (name === "ValidationError") {
    const details = Array.isArray(err.data) ? err.data.map((d: { field?: unknown; message?: unknown }) => ({ field: String(d?.field ?? ""), message: String(d?.message ?? "") })) : undefined;
    return make(400, "INVALID_PARAMS", "Some parameters are not valid", details);
  }
  if (typeof err?.code === "number" && err.code >= 400 && err.code < 500) {
    const code = typeof err.type === "string" && err.type ? err.type : "BAD_REQUEST";
    return make(err.code, code, err.message, err.data?.details, err.data?.messageAr);
  }
  if (typeof err?.status === "number" && err.status >= 400 && err.status < 500) {
    return make(err.status, "BAD_REQUEST", err.message);
  }
  // A decompression error that reached here unwrapped: the client's bytes, not our fault.
  if (typeof err?.code === "string" && /^(Z_|ZSTD_|ERR_BROTLI|ERR_ZLIB|ERR__ZLIB)/.test(err.code)) {
    return make(400, "INVALID_BODY", "The body could not be decoded with its Content-Encoding");
  }
  // The database down, restarting or busy: nothing was done, the client should try again.
  if (err?.retryable || (typeof err?.code === "number" && err.code === 503) || isTransientDbError(err)) {
    return make(503, "SERVICE_UNAVAILABLE", "The service is not available now; try again");
  }
  return make(500, "INTERNAL_ERROR", "Unexpected error");
}

// ------------------------------------------------------------------ body parsing

type Next = (err?: unknown) => void;
/** A connect-style middleware, as moleculer-web's routes `use` them. */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;
/** moleculer-web's `bodyParsers` route option. */
export type BodyParsers = false | true | undefined | Partial<Record<"json" | "urlencoded" | "text" | "raw", boolean | Record<string, unknown>>>;

/**
 * A body-parser, raw-body, zlib or iconv error as a client error: 415 for an encoding or
 * charset this server does not read, 413 for too large, 400 for everything else the client
 * sent (corrupt gzip, bad JSON, an aborted upload). Not retryable as sent.
 *
 * @example
 *   bodyError(Object.assign(new Error("incorrect header check"), { code: "Z_DATA_ERROR" }))
 *   // MoleculerClientError 400 INVALID_BODY
 */
export function bodyError(err: any, parser: string): Error {
  switch (err?.type) {
    case "text.invalid":
      return clientError(400, "INVALID_TEXT", `${err.message}: send UTF-8 text`, { messageAr: AR.INVALID_TEXT });
    case "encoding.unsupported":
      return clientError(415, "UNSUPPORTED_ENCODING", `Content-Encoding "${String(err.encoding ?? "")}" is not supported: send identity, gzip, deflate or br`, { messageAr: AR.UNSUPPORTED_ENCODING });
    case "charset.unsupported":
      return clientError(415, "UNSUPPORTED_CHARSET", `The charset "${String(err.charset ?? "")}" is not supported: send UTF-8`, { messageAr: AR.UNSUPPORTED_CHARSET });
    case "entity.too.large":
      return clientError(413, "BODY_TOO_LARGE", `The body is larger than ${err.limit ?? "the limit"} bytes`, { messageAr: AR.BODY_TOO_LARGE });
    case "parameters.too.many":
      return clientError(413, "BODY_TOO_LARGE", "The form has too many parameters", { messageAr: AR.BODY_TOO_LARGE });
    case "entity.parse.failed":
      return parser === "json"
        ? clientError(400, "INVALID_JSON", "The body is not valid JSON", { messageAr: AR.INVALID_JSON })
        : clientError(400, "INVALID_BODY", "The body could not be parsed", { messageAr: AR.INVALID_BODY });
  }
  if (typeof err?.code === "string" && /^(Z_|ZSTD_|ERR_BROTLI|ERR_ZLIB|ERR__ZLIB)/.test(err.code)) {
    return clientError(400, "INVALID_BODY", "The body could not be decoded with its Content-Encoding", { messageAr: AR.INVALID_BODY });
  }
  const status = typeof err?.status === "number" && err.status >= 400 && err.status < 500 ? err.status : 400;
  return clientError(status, status === 415 ? "UNSUPPORTED_MEDIA_TYPE" : "INVALID_BODY", "The body could not be read", { messageAr: status === 415 ? AR.UNSUPPORTED_MEDIA_TYPE : AR.INVALID_BODY });
}

/**
 * moleculer-web's `bodyParsers` option as middlewares whose errors are all client errors
 * (moleculer-web itself turns a zlib error into a 500: it keeps the error's string code
 * and drops its status).
 *
 * @example
 *   route.use = safeBodyParsers({ json: { limit: "1mb" } }); route.bodyParsers = false;
 */
export function safeBodyParsers(spec: BodyParsers): Middleware[] {
  const parsers = spec === undefined || spec === true ? { json: true } : spec || {};
  const factories = (ApiGateway as unknown as { bodyParser: Record<string, (opts?: object) => Middleware> }).bodyParser;
  return Object.entries(parsers)
    .filter(([name, opts]) => opts !== false && name in factories)
    .map(([name, opts]) => {
      // Every parser decodes strictly (core/platform/strict-text.ts); a `raw` body is bytes, not text.
      const verify = name === "raw" ? undefined : (req: IncomingMessage, _res: ServerResponse, body: Buffer, charset: string | null) => checkBodyText(body, charset, req.headers["content-type"]);
      const parse = factories[name]!({ ...(typeof opts === "object" ? opts : {}), ...(verify ? { verify } : {}) });
      return (req: IncomingMessage, res: ServerResponse, next: Next) => {
        try {
          parse(req, res, (err) => next(err ? bodyError(err, name) : undefined));
        } catch (err) {
          next(bodyError(err, name));
        }
      };
    });
}

/**
 * Refuses (400 INVALID_TEXT) a request whose query string decodes to invalid UTF-8, before
 * any route reads it.
 *
 * @example
 *   route.use = [strictQuery, ...safeBodyParsers({ json: true })];
 */
export const strictQuery: Middleware = (req, _res, next) => {
  try {
    checkQueryText(req.url);
    next();
  } catch (err) {
    next(bodyError(err, "query"));
  }
};
