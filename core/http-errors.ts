// One shape for every HTTP error Taqib answers: { error: { code, message, messageAr?, details? } }.
import type { ErrorBody } from "./errors.ts";
import { isTransientDbError } from "./retry.ts";

const AR: Record<string, string> = {
  INVALID_JSON: "تعذر قراءة الطلب: صيغة JSON غير صحيحة",
  BODY_TOO_LARGE: "حجم الطلب أكبر من المسموح",
  UNSUPPORTED_MEDIA_TYPE: "نوع المحتوى غير مدعوم",
  NOT_FOUND: "الصفحة أو المسار غير موجود",
  UNAUTHORIZED: "مفتاح الدخول مفقود أو غير صحيح",
  SERVICE_UNAVAILABLE: "الخدمة غير متاحة الآن، يرجى المحاولة لاحقاً",
  INTERNAL_ERROR: "حدث خطأ غير متوقع، يرجى المحاولة لاحقاً",
  RATE_LIMITED: "عدد المحاولات كبير، يرجى المحاولة بعد قليل",
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
  if (name === "ValidationError") return make(400, "INVALID_PARAMS", err.message, err.data);
  if (typeof err?.code === "number" && err.code >= 400 && err.code < 500) {
    const code = typeof err.type === "string" && err.type ? err.type : "BAD_REQUEST";
    return make(err.code, code, err.message, err.data?.details, err.data?.messageAr);
  }
  if (typeof err?.status === "number" && err.status >= 400 && err.status < 500) {
    return make(err.status, "BAD_REQUEST", err.message);
  }
  // The database down, restarting or busy: nothing was done, the client should try again.
  if (err?.retryable || (typeof err?.code === "number" && err.code === 503) || isTransientDbError(err)) {
    return make(503, "SERVICE_UNAVAILABLE", "The service is not available now; try again");
  }
  return make(500, "INTERNAL_ERROR", "Unexpected error");
}
