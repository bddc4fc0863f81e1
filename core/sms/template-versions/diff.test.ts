import { test } from "node:test";
import assert from "node:assert/strict";
import { wordDiff } from "./diff.ts";

test("wordDiff marks the words removed and added, and joins what stayed", () => {
  assert.deepEqual(wordDiff("سُجلت معاملتكم رقم {{ltr n}}", "سُجلت طلبكم رقم {{ltr n}}"), [
    { op: "same", text: "سُجلت " },
    { op: "del", text: "معاملتكم " },
    { op: "ins", text: "طلبكم " },
    { op: "same", text: "رقم {{ltr n}}" },
  ]);
  assert.deepEqual(wordDiff("{{/if}}سُجلت معاملتكم", "{{/if}}تم تسجيل معاملتكم"), [
    { op: "same", text: "{{/if}}" },
    { op: "del", text: "سُجلت " },
    { op: "ins", text: "تم تسجيل " },
    { op: "same", text: "معاملتكم" },
  ], "an expression is a word of its own, spaces inside it included");
  assert.deepEqual(wordDiff("", "جديد"), [{ op: "ins", text: "جديد" }]);
  assert.deepEqual(wordDiff("a b", "a b"), [{ op: "same", text: "a b" }]);
  const parts = wordDiff("one two three", "one three four");
  assert.equal(parts.filter((p) => p.op !== "ins").map((p) => p.text).join(""), "one two three", "the old text is the kept and removed runs");
  assert.equal(parts.filter((p) => p.op !== "del").map((p) => p.text).join(""), "one three four", "the new one the kept and added runs");
});
