const orig = globalThis.setTimeout;
(globalThis as any).setTimeout = function (fn: any, ms: any, ...a: any[]) {
  if (ms >= 5000) console.log("setTimeout", ms, new Error().stack!.split("\n").slice(2, 7).join(" | "));
  return orig(fn, ms, ...a);
};
const origI = globalThis.setInterval;
(globalThis as any).setInterval = function (fn: any, ms: any, ...a: any[]) {
  if (ms >= 5000) console.log("setInterval", ms, new Error().stack!.split("\n").slice(2, 7).join(" | "));
  return origI(fn, ms, ...a);
};
