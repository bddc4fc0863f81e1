// The time the product's schedules go by: quiet hours, due SMS, follow-up notices. Real time
// unless a test in the same process moves it; leases, locks and timeouts keep real time.

let offsetMs = 0;
const listeners = new Set<() => void>();

/**
 * The schedule clock.
 *
 * @example
 *   clock.now()                                   // a Date
 *   clock.set(new Date("2026-11-26T02:00:00+03:00")) // tests only: every sleeper is woken
 */
export const clock = {
  now(): Date {
    return new Date(Date.now() + offsetMs);
  },
  /** Moves the clock to `at` (tests); whoever sleeps until a due time looks again. */
  set(at: Date): void {
    offsetMs = at.getTime() - Date.now();
    for (const l of listeners) l();
  },
  reset(): void {
    this.set(new Date());
    offsetMs = 0;
  },
  /** Called whenever the clock is moved; answers the function that stops it. */
  onChange(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};
