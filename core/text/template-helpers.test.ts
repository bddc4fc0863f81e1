import { test } from "node:test";
import assert from "node:assert/strict";
import Handlebars from "handlebars";
import { showIsolates } from "./bidi.ts";
import type { DigitStyle } from "./digits.ts";
import type { Lang } from "./lang.ts";
import { countText, firstNameOf, nameFitsLang, registerTemplateHelpers, spokenGroups, TemplateValueError, textFitsLang, type OutputKind } from "./template-helpers.ts";

const hb = Handlebars.create();
registerTemplateHelpers(hb);
const render = (source: string, data: object, lang: Lang, kind: OutputKind, digits: DigitStyle = "latin") =>
  showIsolates(hb.compile(source, { strict: true, noEscape: kind === "txt" })(data, { data: { lang, digits, kind } }));

const data = { n: "1445-00123", d: new Date("2026-11-28T07:30:00Z"), hours: "من 7:30 إلى 14:30", agency: { ar: "وزارة الداخلية", en: "Ministry of Interior" }, days: 12, a: "<b>" };

test("one meaning everywhere: a shown number is isolated the way the output needs it, in DIGITS in Arabic, Latin in English", () => {
  const source = "{{ltr n}}|{{isolate hours}}|{{hijri d}}|{{gregorian d}}|{{time d}}|{{count days \"day\"}}|{{digits n}}|{{latin n}}";
  const table: Array<[Lang, OutputKind, DigitStyle, string]> = [
    ["ar", "txt", "latin", "⟨1445-00123⟩|من ⟨7:30⟩ إلى ⟨14:30⟩|⟨1448/06/18⟩هـ|⟨2026/11/28⟩م|⟨10:30⟩|⟨12⟩ يومًا|1445-00123|1445-00123"],
    ["ar", "txt", "arabic", "⟨١٤٤٥-\u200E٠٠١٢٣⟩|من ⟨٧:٣٠⟩ إلى ⟨١٤:٣٠⟩|⟨١٤٤٨/٠٦/١٨⟩هـ|⟨٢٠٢٦/١١/٢٨⟩م|⟨١٠:٣٠⟩|⟨١٢⟩ يومًا|١٤٤٥-٠٠١٢٣|1445-00123"],
    ["en", "txt", "arabic", "1445-00123|من 7:30 إلى 14:30|18/06/1448 AH|28/11/2026|10:30|12 days|1445-00123|1445-00123"],
    [
      "ar",
      "html",
      "arabic",
      '<bdi dir="ltr">١٤٤٥-٠٠١٢٣</bdi>|من <bdi dir="ltr">٧:٣٠</bdi> إلى <bdi dir="ltr">١٤:٣٠</bdi>|<bdi dir="ltr">١٤٤٨/٠٦/١٨</bdi>هـ|<bdi dir="ltr">٢٠٢٦/١١/٢٨</bdi>م|<bdi dir="ltr">١٠:٣٠</bdi>|<bdi dir="ltr">١٢</bdi> يومًا|١٤٤٥-٠٠١٢٣|1445-00123',
    ],
    ["en", "html", "latin", '<bdi dir="ltr">1445-00123</bdi>|من <bdi dir="ltr">7:30</bdi> إلى <bdi dir="ltr">14:30</bdi>|<bdi dir="ltr">18/06/1448</bdi> AH|<bdi dir="ltr">28/11/2026</bdi>|<bdi dir="ltr">10:30</bdi>|<bdi dir="ltr">12</bdi> days|1445-00123|1445-00123'],
    ["ar", "xml", "latin", "1445-00123|من 7:30 إلى 14:30|1448/06/18هـ|2026/11/28م|10:30|12 يومًا|1445-00123|1445-00123"],
  ];
  for (const [lang, kind, digits, expected] of table) assert.equal(render(source, data, lang, kind, digits), expected, `${lang} ${kind} ${digits}`);
});

test("a named style wins in Arabic; {{digits}} honours it in English too, shown numbers stay Latin there", () => {
  assert.equal(render('{{ltr n "arabic"}}|{{hijri d "latin"}}|{{digits n "arabic"}}', data, "ar", "txt", "latin"), "⟨١٤٤٥-\u200E٠٠١٢٣⟩|⟨1448/06/18⟩هـ|١٤٤٥-٠٠١٢٣");
  assert.equal(render('{{ltr n "arabic"}}|{{digits n "arabic"}}', data, "en", "txt"), "1445-00123|١٤٤٥-٠٠١٢٣");
  assert.throws(() => render('{{ltr n "hindi"}}', data, "ar", "txt"), /digits must be "latin" or "arabic"/);
});

test("HTML: the text around a <bdi> is escaped, the <bdi> is kept", () => {
  assert.equal(render("{{isolate a}} {{ltr a}}", data, "ar", "html"), '&lt;b&gt; <bdi dir="ltr">&lt;b&gt;</bdi>');
  assert.equal(render("{{isolate x}}", { x: "<i>9</i>" }, "ar", "html"), '&lt;i&gt;<bdi dir="ltr">9</bdi>&lt;/i&gt;');
});

test("speech, names, logic", () => {
  assert.equal(render("{{spoken n}}|{{hijriWords d}}|{{name agency}}", data, "ar", "txt"), `${spokenGroups("1445-00123", "ar")}|الثامن عشر من جمادى الآخرة عام ألف وأربعمئة وثمانية وأربعين للهجرة|وزارة الداخلية`);
  assert.equal(render("{{spoken n}}|{{hijriWords d}}|{{name agency}}", data, "en", "xml"), "one four four five, dash, zero zero one two three|18 Jumada al-Akhirah 1448 AH|Ministry of Interior");
  assert.equal(render('{{#if (or (eq 1 2) (not false))}}yes{{/if}}|{{#if (eq days 12)}}12{{/if}}', data, "en", "txt"), "yes|12");
  assert.equal(render("{{ordinal 2}} {{truncate 'abcdefghijklmnop' 10}} {{firstName 'عبد الرحمن بن سعد'}}", {}, "ar", "txt"), "الثاني abcdefghi… عبد الرحمن");
});

test("a missing value throws TemplateValueError, not a half-rendered text", () => {
  for (const source of ["{{ltr missing}}", "{{isolate missing}}", "{{hijri missing}}", "{{name missing}}", "{{spoken missing}}", "{{latin missing}}", "{{ltr blank}}"]) {
    assert.throws(() => render(source, { missing: null, blank: " " }, "ar", "txt"), (e: unknown) => e instanceof TemplateValueError, source);
  }
  assert.throws(() => render("{{hijri x}}", { x: "yesterday" }, "ar", "txt"), /not a valid date/);
  assert.throws(() => render("{{name x}}", { x: {} }, "ar", "txt"), /neither "ar" nor "en"/);
  assert.throws(() => render('{{count 2 "week"}}', {}, "ar", "txt"), /unknown unit "week"/);
});

test("the pure parts", () => {
  assert.deepEqual([1, 2, 3, 10, 11, 100, 103].map((n) => countText(n, "day", "ar")), ["يوم واحد", "يومين", "3 أيام", "10 أيام", "11 يومًا", "100 يوم", "103 أيام"]);
  assert.equal(countText(1, "reminder", "en"), "1 reminder");
  assert.equal(spokenGroups("1448/00512", "en"), "one four four eight, slash, zero zero five one two");
  assert.equal(firstNameOf("أبو بكر الصديق"), "أبو بكر");
  assert.deepEqual([nameFitsLang("سالم", "ar"), nameFitsLang("سالم", "en"), nameFitsLang("Salem", "en"), nameFitsLang(" ", "ar")], [true, false, true, false]);
  assert.deepEqual([textFitsLang("9031", "en"), textFitsLang("ر/9031", "en"), textFitsLang("ref 9031", "ar")], [true, false, false]);
});
