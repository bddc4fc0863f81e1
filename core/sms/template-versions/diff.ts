// What changed between two versions of a template, word by word (a template is a line or
// two: a line diff would mark all of it).

/** A run of the new text: kept, removed or added. */
export interface DiffPart {
  op: "same" | "del" | "ins";
  text: string;
}

/**
 * The word-level difference from `before` to `after` (longest common subsequence of words,
 * `{{…}}` expressions, each with the spaces after it); neighbouring runs of the same kind are joined.
 *
 * @example
 *   wordDiff("سُجلت معاملتكم رقم", "سُجلت طلبكم رقم")
 *   // [{ op: "same", text: "سُجلت " }, { op: "del", text: "معاملتكم " }, { op: "ins", text: "طلبكم " }, { op: "same", text: "رقم" }]
 */
// A whole {{…}} (it may hold spaces) or a word (up to the next space or {{), with the spaces
// after it: a lone space never matches between two different sentences.
const TOKEN = /^\s+|(?:\{\{[^}]*\}\}\}?|\{|[^\s{]+)\s*/g;

export function wordDiff(before: string, after: string): DiffPart[] {
  const a = before.match(TOKEN) ?? [];
  const b = after.match(TOKEN) ?? [];
  // Tokens past a few thousand would make the table large: then the whole text is replaced.
  if (a.length * b.length > 4_000_000) return join([{ op: "del", text: before }, { op: "ins", text: after }]);
  const n = a.length;
  const m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: DiffPart[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) out.push({ op: "same", text: a[i++]! }), j++;
    else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) out.push({ op: "del", text: a[i++]! });
    else out.push({ op: "ins", text: b[j++]! });
  }
  while (i < n) out.push({ op: "del", text: a[i++]! });
  while (j < m) out.push({ op: "ins", text: b[j++]! });
  return join(out);
}

function join(parts: DiffPart[]): DiffPart[] {
  const out: DiffPart[] = [];
  for (const p of parts) {
    if (p.text === "") continue;
    const last = out.at(-1);
    if (last?.op === p.op) last.text += p.text;
    else out.push({ ...p });
  }
  return out;
}
