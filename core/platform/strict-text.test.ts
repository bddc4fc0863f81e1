import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { checkBodyText, checkQueryText, hasLoneSurrogate, InvalidTextError } from "./strict-text.ts";

const JSON_TYPE = "application/json";
const FORM = "application/x-www-form-urlencoded; charset=utf-8";

describe("checkBodyText: text from outside is valid UTF-8 with no lone surrogate", () => {
  const cases: [string, Buffer, string | null, string, boolean][] = [
    ["Arabic JSON", Buffer.from('{"name":"محمد","note":"😀"}'), "utf-8", JSON_TYPE, true],
    ["a surrogate pair as escapes", Buffer.from('{"s":"\\ud83d\\ude00"}'), "utf-8", JSON_TYPE, true],
    ["an escaped backslash before ud800 is text, not an escape", Buffer.from('{"s":"\\\\ud800"}'), "utf-8", JSON_TYPE, true],
    ["invalid UTF-8 bytes (the ��� of the report)", Buffer.from([0x7b, 0x22, 0x73, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xfd, 0x28, 0x22, 0x7d]), "utf-8", JSON_TYPE, false],
    ["a truncated Arabic letter", Buffer.concat([Buffer.from('{"s":"'), Buffer.from("م").subarray(0, 1), Buffer.from('"}')]), "utf-8", JSON_TYPE, false],
    ["a surrogate encoded in UTF-8 (CESU)", Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]), "utf-8", JSON_TYPE, false],
    ["a lone high surrogate escape", Buffer.from('{"s":"s\\ud800"}'), "utf-8", JSON_TYPE, false],
    ["a lone low surrogate escape in a key", Buffer.from('{"\\uDC00":1}'), "utf-8", "application/vnd.taqib+json", false],
    ["a form with Arabic escapes", Buffer.from("From=%2B966551234567&Body=%D8%A3%D9%87%D9%84%D8%A7"), "utf-8", FORM, true],
    ["a form whose escapes are not UTF-8", Buffer.from("Body=s%FF"), "utf-8", FORM, false],
    ["a form with a lone %", Buffer.from("Body=100%"), "utf-8", FORM, true],
    ["text in another charset is its parser's", Buffer.from([0xe3, 0xcd, 0xe3, 0xcf]), "windows-1256", "text/plain", true],
    ["not JSON at all is the parser's", Buffer.from('{"s":"\\ud800'), "utf-8", JSON_TYPE, true],
  ];
  for (const [name, body, charset, type, ok] of cases) {
    it(name, () => {
      if (ok) checkBodyText(body, charset, type);
      else assert.throws(() => checkBodyText(body, charset, type), InvalidTextError);
    });
  }
});

describe("checkQueryText", () => {
  it("passes UTF-8 escapes and refuses others", () => {
    checkQueryText("/api/v1/inquiry?number=%D9%A1%D9%A4&verifier=1234");
    checkQueryText("/health/live");
    assert.throws(() => checkQueryText("/api/v1/inquiry?number=%FF"), InvalidTextError);
    assert.throws(() => checkQueryText("/api/v1/messages?status=%ED%A0%80"), InvalidTextError);
  });
  it("hasLoneSurrogate sees half a pair only", () => {
    assert.equal(hasLoneSurrogate("😀"), false);
    assert.equal(hasLoneSurrogate("s\ud800"), true);
  });
});
