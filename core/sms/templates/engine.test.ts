import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";
import { showIsolates } from "../../text/bidi.ts";
import { cleanSmsText, createTemplateEngine, TEMPLATE_NAMES, TemplateError, type RegisteredData, type TemplateName } from "./engine.ts";
import { SAMPLE_DATA } from "./samples.ts";

const DIR = fileURLToPath(new URL(".", import.meta.url));
const engine = createTemplateEngine({ dir: DIR });

/** SMS parts as the operator bills them: GSM-7 for plain ASCII, else UCS-2. */
function smsParts(text: string): { encoding: "GSM-7" | "UCS-2"; parts: number } {
  if (/^[\x00-\x7F]*$/.test(text)) return { encoding: "GSM-7", parts: text.length <= 160 ? 1 : Math.ceil(text.length / 153) };
  return { encoding: "UCS-2", parts: text.length <= 70 ? 1 : Math.ceil(text.length / 67) };
}

function tempDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "taqib-templates-"));
  for (const [f, body] of Object.entries(files)) writeFileSync(join(dir, f), body);
  return dir;
}

function throwsTemplateError(fn: () => unknown, template: string, field?: string): TemplateError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof TemplateError, `expected TemplateError, got ${String(caught)}`);
  assert.equal(caught.code, "TEMPLATE_ERROR");
  assert.equal(caught.template, template);
  assert.ok(caught.message.includes(template), caught.message);
  if (field !== undefined) {
    assert.equal(caught.field, field, caught.message);
    assert.ok(caught.message.includes(`"${field}"`), caught.message);
  }
  return caught;
}

// The isolates made visible: ⟨ = LRI, ⟩ = PDI.
const shown = showIsolates;

test("registered (ar) renders exactly this text: the number as written, numbers and dates isolated", () => {
  const r = engine.render("registered", "ar", SAMPLE_DATA.registered);
  assert.deepEqual({ ...r, text: shown(r.text) }, {
    text: "سليمان، سُجلت معاملتكم رقم ⟨1448/00512⟩ في ⟨1448/06/18⟩هـ بشأن: طلب إصدار صك إعالة.\nللاستعلام أرسلوا الرقم إلى ⟨74747⟩",
    lang: "ar",
    template: "registered",
    requestedLang: "ar",
    fallback: false,
  });
  const noSubject: RegisteredData = {
    transaction: { number: "144500123", displayNumber: "1445-00123", registeredAt: new Date("2026-11-28T07:30:00Z") },
    citizen: { name: "سالم بن ناصر العنزي" },
    shortCode: "88990",
  };
  assert.equal(shown(engine.render("registered", "ar", noSubject).text), "سالم، سُجلت معاملتكم رقم ⟨1445-00123⟩ في ⟨1448/06/18⟩هـ.\nللاستعلام أرسلوا الرقم إلى ⟨88990⟩");
  // An Arabic name in an English SMS: a name-free greeting, GSM-7, one part.
  const en = engine.render("registered", "en", noSubject).text;
  assert.equal(en, "Dear citizen, your transaction No. 1445-00123 was registered on 18/06/1448 AH (28/11/2026).\nTo follow up, text the number to 88990.");
  assert.equal(smsParts(en).encoding, "GSM-7");
  assert.match(engine.render("registered", "en", { ...noSubject, citizen: { name: "Salem Al-Anazi" } }).text, /^Dear Salem Al-Anazi, /);
  // DIGITS=arabic: Arabic-Indic digits in Arabic SMS, Latin in English.
  const indic = createTemplateEngine({ dir: DIR, digits: "arabic" });
  assert.equal(shown(indic.render("registered", "ar", noSubject).text), "سالم، سُجلت معاملتكم رقم ⟨١٤٤٥-\u200E٠٠١٢٣⟩ في ⟨١٤٤٨/٠٦/١٨⟩هـ.\nللاستعلام أرسلوا الرقم إلى ⟨٨٨٩٩٠⟩"); // a dash beside Arabic-Indic digits is held by a left-to-right mark
  assert.match(indic.render("registered", "en", noSubject).text, /No\. 1445-00123 was registered on 18\/06\/1448 AH/);
});

test("every template renders in ar and en with sample data", async (t) => {
  for (const name of TEMPLATE_NAMES) {
    for (const lang of ["ar", "en"] as const) {
      await t.test(`${name}.${lang}`, () => {
        assert.ok(engine.has(name, lang));
        const r = engine.render(name, lang, SAMPLE_DATA[name] as object);
        assert.equal(r.lang, lang);
        assert.equal(r.template, name);
        assert.equal(r.fallback, false);
        assert.ok(r.text.length > 20, r.text);
        assert.doesNotMatch(r.text, /undefined|null|NaN|\[object|\{\{|\}\}|  |^\s|\s$|\n\n/);
        if (lang === "ar") assert.match(r.text, /[\u0600-\u06FF]/);
        else assert.doesNotMatch(r.text, /[\u2066-\u2069]/);
      });
    }
  }
});

test("English templates stay GSM-7 when the data has English names", () => {
  for (const name of ["issued", "overdue", "reminder", "escalation", "reply-received", "closed"] as const) {
    const { text } = engine.render(name, "en", SAMPLE_DATA[name] as object);
    assert.equal(smsParts(text).encoding, "GSM-7", `${name}: ${text}`);
  }
});

test("texts of the other templates (ar)", () => {
  const ar = (n: TemplateName) => shown(engine.render(n, "ar", SAMPLE_DATA[n] as object).text);
  assert.equal(ar("issued"), "معاملتكم رقم ⟨1448/00512⟩ صدرت برقم ⟨1448/00977⟩ في ⟨1448/06/23⟩هـ إلى وزارة الموارد البشرية والتنمية الاجتماعية، ولا يلزم حضوركم.");
  assert.equal(ar("assigned"), "فهد، أُحيلت إليكم المعاملة رقم ⟨1448/00512⟩ وتاريخ ⟨1448/06/18⟩هـ في إدارة الحقوق المدنية، نأمل الاطلاع عليها.");
  assert.equal(ar("overdue"), "معاملة ⟨1448/00512⟩: صادرها ⟨1448/00977⟩ في ⟨1448/06/23⟩هـ إلى أمانة منطقة القصيم بلا رد حتى تاريخه، للمتابعة.");
  assert.equal(ar("reminder"), "التذكير الثاني: معاملة ⟨1448/00512⟩، صادرها ⟨1448/00977⟩ في ⟨1448/06/23⟩هـ إلى أمانة منطقة القصيم بلا رد.");
  assert.equal(ar("escalation"), "تصعيد: معاملة ⟨1448/00512⟩، صادرها ⟨1448/00977⟩ في ⟨1448/06/23⟩هـ بلا رد رغم ⟨3⟩ تذكيرات لمدير إدارة الحقوق المدنية.");
  assert.equal(ar("reply-received"), "ورد رد أمانة منطقة القصيم رقم ⟨9031⟩ في ⟨1448/07/13⟩هـ على معاملتكم رقم ⟨1448/00512⟩، وجارٍ استكمالها.");
  // optional parts vanish cleanly
  const { department: _d, ...noDept } = SAMPLE_DATA.assigned;
  assert.match(shown(engine.render("assigned", "ar", noDept).text), /⟨1448\/06\/18⟩هـ، نأمل الاطلاع عليها\.$/);
  const bare = { ...SAMPLE_DATA["reply-received"], reply: {} };
  assert.equal(shown(engine.render("reply-received", "ar", bare).text), "ورد رد أمانة منطقة القصيم على معاملتكم رقم ⟨1448/00512⟩، وجارٍ استكمالها.");
  assert.equal(
    engine.render("reply-received", "en", bare).text,
    "A reply from Qassim Region Municipality, to your transaction No. 1448/00512 has been received. Processing will now continue.",
  );
});

test("a missing or empty field throws TemplateError naming it", () => {
  const base = SAMPLE_DATA.registered;
  // leaf missing
  throwsTemplateError(
    () => engine.render("registered", "ar", { ...base, transaction: { registeredAt: new Date() } } as never),
    "registered.ar",
    "transaction.displayNumber",
  );
  // leaf present but undefined / empty
  throwsTemplateError(
    () => engine.render("registered", "ar", { ...base, shortCode: "  " }),
    "registered.ar",
    "shortCode",
  );
  throwsTemplateError(
    () => engine.render("reminder", "en", { ...SAMPLE_DATA.reminder, reminderNumber: undefined as never }),
    "reminder.en",
    "reminderNumber",
  );
  // whole object missing
  throwsTemplateError(() => engine.render("registered", "en", { citizen: base.citizen } as never), "registered.en", "transaction");
  // date missing / invalid (helper argument)
  throwsTemplateError(
    () => engine.render("registered", "ar", { ...base, transaction: { number: "1", displayNumber: "1" } } as never),
    "registered.ar",
    "transaction.registeredAt",
  );
  const e = throwsTemplateError(
    () => engine.render("registered", "ar", { ...base, transaction: { number: "1", displayNumber: "1", registeredAt: "yesterday" } }),
    "registered.ar",
    "transaction.registeredAt",
  );
  assert.match(e.message, /not a valid date/);
  // nested object missing below a helper
  throwsTemplateError(
    () => engine.render("issued", "ar", { ...SAMPLE_DATA.issued, outgoing: { number: 1, displayNumber: 1, date: new Date() } } as never),
    "issued.ar",
    "outgoing.destination",
  );
  throwsTemplateError(
    () => engine.render("issued", "en", { ...SAMPLE_DATA.issued, outgoing: { ...SAMPLE_DATA.issued.outgoing, destination: { name: {} } } }),
    "issued.en",
    "outgoing.destination.name",
  );
  throwsTemplateError(() => engine.render("overdue", "en", { ...SAMPLE_DATA.overdue, daysOverdue: 2.5 }), "overdue.en", "daysOverdue");
  throwsTemplateError(() => engine.render("closed", "ar", {} as never), "closed.ar", "transaction");
  throwsTemplateError(() => engine.render("closed", "ar", null as never), "closed.ar");
});

test("falls back to Arabic when the language has no template, and says so", () => {
  const dir = tempDir({ "only-ar.ar.hbs": "مرحبًا {{who}}" });
  try {
    const e = createTemplateEngine({ dir });
    assert.equal(e.has("only-ar", "en"), false);
    assert.deepEqual(e.render("only-ar", "en", { who: "نورة" }), {
      text: "مرحبًا نورة",
      lang: "ar",
      template: "only-ar",
      requestedLang: "en",
      fallback: true,
    });
    throwsTemplateError(() => e.render("nope", "ar", {}), "nope.ar");
    throwsTemplateError(() => e.render("nope", "en", {}), "nope.en");
    throwsTemplateError(() => e.render("../etc/passwd", "ar", {}), "../etc/passwd");
    assert.equal(e.has("../only-ar", "ar"), false);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("templates are cached until reload()", () => {
  const dir = tempDir({ "t.ar.hbs": "أ {{x}}", "t.en.hbs": "A {{x}}", "README.md": "not a template" });
  try {
    const e = createTemplateEngine({ dir });
    assert.deepEqual(e.names(), ["t"]);
    assert.equal(e.render("t", "ar", { x: 1 }).text, "أ 1");
    writeFileSync(join(dir, "t.ar.hbs"), "ب {{x}}");
    assert.equal(e.render("t", "ar", { x: 1 }).text, "أ 1");
    e.reload();
    assert.equal(e.render("t", "ar", { x: 1 }).text, "ب 1");
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("syntax errors and unknown helpers are TemplateErrors; check() lists them", () => {
  const dir = tempDir({
    "ok.ar.hbs": "{{x}}",
    "broken.ar.hbs": "{{#if x}}unclosed",
    "typo.en.hbs": "{{hijrri date}}",
  });
  try {
    const e = createTemplateEngine({ dir });
    const syntax = throwsTemplateError(() => e.render("broken", "ar", { x: 1 }), "broken.ar");
    assert.match(syntax.message, /syntax error/);
    const typo = throwsTemplateError(() => e.render("typo", "en", { date: new Date() }), "typo.en");
    assert.match(typo.message, /unknown helper "hijrri"/);
    assert.deepEqual(
      e.check().map((x) => x.template).sort(),
      ["broken.ar", "typo.en"],
    );
  } finally {
    rmSync(dir, { recursive: true });
  }
  assert.deepEqual(engine.check(), []);
});

test("helpers", () => {
  const dir = tempDir({
    "h.ar.hbs": [
      "{{hijri d}}|{{hijri d \"arabic\"}}|{{hijri d style=\"long\"}}|{{gregorian d}}|{{gregorian d \"arabic\"}}|{{time d}}",
      "{{digits n}}|{{digits n \"arabic\"}}|{{latin s}}|{{name agency}}|{{name enOnly}}|{{name plain}}",
      "{{count 1 \"day\"}}|{{count 2 \"day\"}}|{{count 3 \"day\"}}|{{count 10 \"day\"}}|{{count 11 \"day\"}}|{{count 100 \"day\"}}|{{count 103 \"day\"}}|{{count 2 \"reminder\"}}",
      "{{ordinal 1}}|{{ordinal 2}}|{{ordinal 11}}|{{ordinal 31}}|{{truncate long 10}}|{{#if (eq @lang \"ar\")}}عربي{{else}}other{{/if}}|{{@lang}}",
    ].join("\n"),
    "h.en.hbs": [
      "{{hijri d}}|{{hijri d style=\"long\"}}|{{gregorian d}}|{{gregorian d style=\"long\"}}|{{time d \"arabic\"}}",
      "{{digits n}}|{{digits n \"arabic\"}}|{{digits s}}|{{name agency}}|{{name arOnly}}",
      "{{count 1 \"day\"}}|{{count 2 \"day\"}}|{{count 1 \"reminder\"}}|{{count 3 \"reminder\"}}",
      "{{ordinal 1}}|{{ordinal 2}}|{{ordinal 3}}|{{ordinal 4}}|{{ordinal 11}}|{{ordinal 12}}|{{ordinal 13}}|{{ordinal 21}}|{{ordinal 112}}|{{truncate long 10}}|{{#if (eq @lang \"ar\")}}arabic{{else}}other{{/if}}",
    ].join("\n"),
    "bad-count.ar.hbs": "{{count n \"week\"}}",
    "raw-date.ar.hbs": "{{d}}",
    "raw-object.ar.hbs": "{{agency}}",
  });
  const data = {
    d: new Date("2026-11-28T07:30:00Z"),
    n: 4800231,
    s: "٤٨٠-۰۲31",
    agency: { ar: "أمانة منطقة القصيم", en: "Qassim Region Municipality" },
    enOnly: { en: "Only English" },
    arOnly: { ar: "عربي فقط" },
    plain: "اسم",
    long: "abcdefghijklmnop",
  };
  try {
    const e = createTemplateEngine({ dir });
    assert.equal(
      shown(e.render("h", "ar", data).text),
      [
        "⟨1448/06/18⟩هـ|⟨١٤٤٨/٠٦/١٨⟩هـ|⟨18⟩ جمادى الآخرة ⟨1448⟩هـ|⟨2026/11/28⟩م|⟨٢٠٢٦/١١/٢٨⟩م|⟨10:30⟩",
        "4800231|٤٨٠٠٢٣١|480-0231|أمانة منطقة القصيم|Only English|اسم",
        "يوم واحد|يومين|⟨3⟩ أيام|⟨10⟩ أيام|⟨11⟩ يومًا|⟨100⟩ يوم|⟨103⟩ أيام|تذكيرين",
        "الأول|الثاني|الحادي عشر|رقم 31|abcdefghi…|عربي|ar",
      ].join("\n"),
    );
    assert.equal(
      e.render("h", "en", data).text,
      [
        // English SMS are Latin whatever the template asks (Arabic-Indic digits would force UCS-2).
        "18/06/1448 AH|18 Jumada al-Akhirah 1448 AH|28/11/2026|28 November 2026|10:30",
        "4800231|٤٨٠٠٢٣١|480-0231|Qassim Region Municipality|عربي فقط",
        "1 day|2 days|1 reminder|3 reminders",
        "1st|2nd|3rd|4th|11th|12th|13th|21st|112th|abcdefg...|other",
      ].join("\n"),
    );
    // DIGITS=arabic: {{digits}} and every shown number follow it in Arabic; {{latin}} does not.
    assert.equal(
      shown(createTemplateEngine({ dir, digits: "arabic" }).render("h", "ar", data).text).split("\n").slice(0, 2).join("\n"),
      "⟨١٤٤٨/٠٦/١٨⟩هـ|⟨١٤٤٨/٠٦/١٨⟩هـ|⟨١٨⟩ جمادى الآخرة ⟨١٤٤٨⟩هـ|⟨٢٠٢٦/١١/٢٨⟩م|⟨٢٠٢٦/١١/٢٨⟩م|⟨١٠:٣٠⟩\n٤٨٠٠٢٣١|٤٨٠٠٢٣١|480-0231|أمانة منطقة القصيم|Only English|اسم",
    );
    // dates from JSON (ISO strings) render like Dates
    assert.equal(e.render("h", "ar", { ...data, d: "2026-11-28T07:30:00Z" }).text, e.render("h", "ar", data).text);
    assert.match(throwsTemplateError(() => e.render("bad-count", "ar", { n: 2 }), "bad-count.ar").message, /unknown unit "week"/);
    assert.match(throwsTemplateError(() => e.render("raw-date", "ar", data), "raw-date.ar", "d").message, /hijri/);
    assert.match(throwsTemplateError(() => e.render("raw-object", "ar", data), "raw-object.ar", "agency").message, /name/);
  } finally {
    rmSync(dir, { recursive: true });
  }
  // helpers live on a private Handlebars instance
  assert.equal(Handlebars.helpers["hijri"], undefined);
});

test("nothing is HTML-escaped and the text is cleaned for SMS", () => {
  const dir = tempDir({ "x.ar.hbs": "{{!-- a note for editors --}}\n  {{a}}   &   {{b}}  \n\n\n  سطر ثانٍ {{#if c}}{{c}}{{/if}} .\n" });
  try {
    const e = createTemplateEngine({ dir });
    assert.equal(e.render("x", "ar", { a: "<مؤسسة \"النور\">", b: "O'Neil & Sons" }).text, "<مؤسسة \"النور\"> & O'Neil & Sons\nسطر ثانٍ.");
  } finally {
    rmSync(dir, { recursive: true });
  }
  assert.equal(cleanSmsText("  نفيدكم   بتسجيل  .\r\n\n\nشكرًا ، \t"), "نفيدكم بتسجيل.\nشكرًا،");
  assert.equal(cleanSmsText("بشأن: طلب…. About \"x...\"."), "بشأن: طلب… About \"x...\".");
  assert.equal(cleanSmsText("subject: x...."), "subject: x...");
});
