// Shared by the display-number tests: a lifecycle numbered as the correspondence system writes
// it, and checks of Arabic SMS text in logical order.
import assert from "node:assert/strict";
import { formatHijri } from "../../core/text/calendar.ts";
import { LRI, PDI, showIsolates } from "../../core/text/bidi.ts";
import { eventually, type SmsNode } from "./harness.ts";
import type { Lang } from "../../core/text/lang.ts";

export const SERVICES = { SERVICES: "api,events,directory,notifier,smpp,channels", CHANNELS: "sms,web", INQUIRY_RATE_LIMIT: "1000" };
export const CITIZEN = "966551234567";
const T0 = Date.now() - 60 * 60_000;
export const at = (min: number) => new Date(T0 + min * 60_000).toISOString();

/** A registration and an issued letter, numbered as the correspondence system writes them. */
export function lifecycle(number: string, outgoing: string, opts: { mobile?: string; lang?: Lang; name?: string; destination?: object } = {}) {
  return [
    {
      id: `dn-${number}-1`,
      type: "registered",
      transactionNumber: number,
      occurredAt: at(0),
      data: { citizen: { name: opts.name ?? "محمد بن عبدالله", mobile: opts.mobile ?? "0551234567", language: opts.lang ?? "ar" }, subject: "طلب إفادة", departmentCode: "LEGAL" },
    },
    {
      id: `dn-${number}-2`,
      type: "issued",
      transactionNumber: number,
      occurredAt: at(30),
      data: { outgoingNumber: outgoing, outgoingDate: at(30), destination: opts.destination ?? { agencyCode: "MOI" }, requiresReply: true },
    },
  ];
}

/** A Hijri date as an Arabic SMS shows it: its numbers isolated, the era suffix outside. */
export const hijriShown = (iso: string, digits: "latin" | "arabic" = "latin") =>
  formatHijri(new Date(iso), { lang: "ar", digits }).replace(/^([^هـ]+)/, "⟨$1⟩");

/** Every number of an Arabic SMS is inside an isolate: nothing but letters and punctuation outside. */
export function assertNumbersIsolated(text: string) {
  const outside = text.replace(new RegExp(`${LRI}[^${PDI}]*${PDI}`, "g"), "");
  assert.doesNotMatch(outside, /[0-9\u0660-\u0669]/, `a number outside an isolate: ${showIsolates(text)}`);
  assert.doesNotMatch(outside, /[\u2066-\u2069\u202a-\u202e\u200e\u200f]/, `an unbalanced or stray direction mark: ${showIsolates(text)}`);
}

export async function smsTo(smsc: { received: Array<{ to: string; text: string }> }, to: string, has: string, what: string) {
  return eventually(async () => smsc.received.find((m) => m.to === to && m.text.includes(has)), 20000, what);
}

export async function inquirySms(smsc: SmsNode["smsc"], text: string) {
  const since = smsc.received.length;
  await smsc.sendMo({ from: CITIZEN, to: "74747", text });
  return eventually(async () => smsc.received.slice(since).find((m) => m.to === CITIZEN), 10000, "the short code's reply");
}
