// The events contract: what a valid event becomes, every refusal with its field and message,
// and the content hash that tells a redelivery from a reused id.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { canonicalJson, eventHash, validateEvent, type FieldError } from "./contract.ts";

const base = { id: "e1", transactionNumber: "1445/00123", occurredAt: "2026-11-01T08:00:00Z" };
const registered = { ...base, type: "registered", data: { citizen: { name: "سارة", mobile: "055 123 4567" }, subject: "رخصة", departmentCode: "LEGAL" } };

describe("validateEvent: valid events, normalised", () => {
  const cases: Array<{ name: string; raw: Record<string, unknown>; data: Record<string, unknown> }> = [
    {
      name: "registered: E.164 mobile, Arabic by default, display number kept",
      raw: registered,
      data: { citizen: { name: "سارة", mobile: "+966551234567", language: "ar" }, subject: "رخصة", departmentCode: "LEGAL", displayNumber: "1445/00123" },
    },
    {
      name: "registered in English, text trimmed",
      raw: { ...base, type: "registered", data: { citizen: { name: "  Sara ", mobile: "+966551234567", language: "en" } } },
      data: { citizen: { name: "Sara", mobile: "+966551234567", language: "en" }, displayNumber: "1445/00123" },
    },
    { name: "referred", raw: { ...base, type: "referred", data: { departmentCode: "HR" } }, data: { departmentCode: "HR", displayNumber: "1445/00123" } },
    { name: "assigned", raw: { ...base, type: "assigned", data: { employeeId: "E.100" } }, data: { employeeId: "E.100", displayNumber: "1445/00123" } },
    {
      name: "issued: canonical and display outgoing numbers, ISO outgoing date",
      raw: { ...base, type: "issued", data: { outgoingNumber: "١٤٤٨/٠٠٥١٢", outgoingDate: "2026-11-01", destination: { agencyCode: "MOI", name: "وزارة الداخلية" }, requiresReply: true } },
      data: {
        outgoingNumber: "144800512",
        outgoingDisplayNumber: "1448/00512",
        outgoingDate: "2026-11-01T00:00:00.000Z",
        destination: { agencyCode: "MOI", name: "وزارة الداخلية" },
        requiresReply: true,
        displayNumber: "1445/00123",
      },
    },
    {
      name: "reply-received: reference digits made Latin",
      raw: { ...base, type: "reply-received", data: { outgoingNumber: "5501", replyNumber: "ر/١٤٤٧-٩٠٣١", replyDate: "2026-11-03T10:00:00+03:00", summary: "تمت الموافقة", via: "webhook" } },
      data: { outgoingNumber: "5501", replyNumber: "ر/1447-9031", replyDate: "2026-11-03T07:00:00.000Z", summary: "تمت الموافقة", via: "webhook", displayNumber: "1445/00123" },
    },
    { name: "closed, data optional", raw: { ...base, type: "closed" }, data: { displayNumber: "1445/00123" } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { event, errors } = validateEvent(c.raw);
      assert.deepEqual(errors, []);
      assert.deepEqual(event, { id: "e1", type: c.raw.type, transactionNumber: "144500123", occurredAt: new Date("2026-11-01T08:00:00Z"), data: c.data });
    });
  }
});

describe("validateEvent: every refusal names its field", () => {
  const cases: Array<{ name: string; raw: unknown; errors: FieldError[]; prefix?: string }> = [
    { name: "not an object", raw: [1], errors: [{ field: "body", message: "an event must be a JSON object" }] },
    { name: "not an object inside a batch", raw: "x", prefix: "[3].", errors: [{ field: "[3].", message: "an event must be a JSON object" }] },
    {
      name: "everything missing",
      raw: {},
      errors: [
        { field: "id", message: "is required" },
        { field: "type", message: "is required" },
        { field: "transactionNumber", message: "is required" },
        { field: "occurredAt", message: "is required" },
      ],
    },
    {
      name: "wrong kinds, unknown field, with the batch prefix",
      prefix: "[0].",
      raw: { id: 7, type: "opened", transactionNumber: 123, occurredAt: "yesterday", data: [], extra: 1 },
      errors: [
        { field: "[0].id", message: "must be a string" },
        { field: "[0].type", message: "must be one of registered, referred, assigned, issued, reply-received, closed" },
        { field: "[0].transactionNumber", message: "must be a string of digits (a JSON number loses digits and signs)" },
        { field: "[0].occurredAt", message: "must be an ISO 8601 date" },
        { field: "[0].data", message: "must be an object" },
        { field: "[0].extra", message: "is not a field of an event" },
      ],
    },
    { name: "empty id", raw: { ...base, id: "  ", type: "closed" }, errors: [{ field: "id", message: "must not be empty" }] },
    { name: "id too long", raw: { ...base, id: "x".repeat(129), type: "closed" }, errors: [{ field: "id", message: "must be at most 128 characters" }] },
    { name: "negative number", raw: { ...base, transactionNumber: "-5", type: "closed" }, errors: [{ field: "transactionNumber", message: "must be a string of 1 to 20 digits (separators allowed)" }] },
    { name: "date out of range", raw: { ...base, occurredAt: "1800-01-01", type: "closed" }, errors: [{ field: "occurredAt", message: "must be an ISO 8601 date" }] },
    { name: "impossible date", raw: { ...base, occurredAt: "2026-13-01", type: "closed" }, errors: [{ field: "occurredAt", message: "must be an ISO 8601 date" }] },
    {
      name: "registered without a citizen",
      raw: { ...base, type: "registered", data: {} },
      errors: [{ field: "data.citizen", message: "is required" }],
    },
    {
      name: "registered: bad mobile, language, name with a link, department code",
      raw: { ...base, type: "registered", data: { citizen: { name: "Visit www.pay.example", mobile: "0412345678", language: "fr" }, departmentCode: "LE GAL" } },
      errors: [
        { field: "data.citizen.name", message: "must not contain a web address" },
        { field: "data.citizen.mobile", message: "must be a Saudi mobile number (05XXXXXXXX, 9665XXXXXXXX or +9665XXXXXXXX)" },
        { field: "data.citizen.language", message: "must be ar or en" },
        { field: "data.departmentCode", message: "letters, digits, '.', '_' or '-' only" },
      ],
    },
    {
      name: "registered: mobile missing, subject on two lines",
      raw: { ...base, type: "registered", data: { citizen: { name: "سارة" }, subject: "a\nb" } },
      errors: [
        { field: "data.citizen.mobile", message: "is required" },
        { field: "data.subject", message: "must be one line with no control or bidi characters" },
      ],
    },
    { name: "referred without a department", raw: { ...base, type: "referred", data: {} }, errors: [{ field: "data.departmentCode", message: "is required" }] },
    { name: "assigned: employee id too long", raw: { ...base, type: "assigned", data: { employeeId: "E".repeat(65) } }, errors: [{ field: "data.employeeId", message: "must be at most 64 characters" }] },
    {
      name: "issued: nothing given",
      raw: { ...base, type: "issued", data: {} },
      errors: [
        { field: "data.outgoingNumber", message: "is required" },
        { field: "data.destination", message: "is required" },
        { field: "data.requiresReply", message: "is required and must be true or false" },
      ],
    },
    {
      name: "issued: bad date, destination without agency, requiresReply a string",
      raw: { ...base, type: "issued", data: { outgoingNumber: "5501", outgoingDate: "01/11/2026", destination: { name: "x" }, requiresReply: "yes" } },
      errors: [
        { field: "data.outgoingDate", message: "must be an ISO 8601 date" },
        { field: "data.destination.agencyCode", message: "is required" },
        { field: "data.requiresReply", message: "is required and must be true or false" },
      ],
    },
    {
      name: "reply-received: a link as reply number, summary too long",
      raw: { ...base, type: "reply-received", data: { outgoingNumber: "5501", replyNumber: "9031 pay.example", summary: "x".repeat(1001) } },
      errors: [
        { field: "data.replyNumber", message: "Arabic or Latin letters, digits, spaces and / - . only (one line, no web address)" },
        { field: "data.summary", message: "must be at most 1000 characters" },
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { event, errors } = validateEvent(c.raw, c.prefix);
      assert.equal(event, undefined);
      assert.deepEqual(errors, c.errors);
    });
  }
});

describe("eventHash", () => {
  const valid = (raw: unknown) => validateEvent(raw).event!;

  it("a number written differently is the same event; other content is not", () => {
    const a = valid(registered);
    assert.equal(eventHash(valid({ ...registered, transactionNumber: "١٤٤٥٠٠١٢٣" })), eventHash(a));
    assert.equal(eventHash(valid({ ...registered, id: "e2" })), eventHash(a), "the id is not content");
    assert.notEqual(eventHash(valid({ ...registered, occurredAt: "2026-11-01T08:00:01Z" })), eventHash(a));
    assert.notEqual(eventHash(valid({ ...registered, data: { ...registered.data, subject: "أخرى" } })), eventHash(a));
    assert.notEqual(eventHash(valid({ ...registered, type: "closed", data: {} })), eventHash(valid({ ...base, type: "closed", transactionNumber: "144500124" })));
  });

  it("canonicalJson: key order and undefined members do not matter, dates are ISO", () => {
    assert.equal(canonicalJson({ b: 1, a: [{ d: undefined, c: new Date(0) }] }), '{"a":[{"c":"1970-01-01T00:00:00.000Z"}],"b":1}');
  });

  it("canonicalJson is the value's JSON, whatever the order of its keys", () => {
    const reversed = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(reversed) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversed(x)])) : v;
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const c = canonicalJson(v);
        assert.deepEqual(JSON.parse(c), JSON.parse(JSON.stringify(v)));
        assert.equal(canonicalJson(reversed(v)), c);
      }),
      { numRuns: 200 },
    );
  });
});
