// Which events' SMS a department sends: its own switches over the defaults.

/**
 * A department's switches when it sets none: the SMS sent before switches existed. The
 * referral and closing notices are there for departments that turn them on.
 */
export const DEFAULT_NOTIFICATIONS = Object.freeze({
  registered: true,
  referred: false,
  assigned: true,
  issued: true,
  "reply-received": true,
  closed: false,
});

/** Which events' SMS a department sends (its `notifications`), by event type. */
export type NotificationSwitches = Record<keyof typeof DEFAULT_NOTIFICATIONS, boolean>;

export const NOTIFICATION_TYPES = Object.keys(DEFAULT_NOTIFICATIONS) as Array<keyof NotificationSwitches>;

/**
 * A department's switches, its own over the defaults.
 *
 * @example
 *   notificationSwitches({ closed: true }).closed // true; .referred false
 */
export function notificationSwitches(own?: Record<string, unknown> | null): NotificationSwitches {
  const out: NotificationSwitches = { ...DEFAULT_NOTIFICATIONS };
  for (const k of NOTIFICATION_TYPES) {
    const on = own?.[k];
    if (typeof on === "boolean") out[k] = on;
  }
  return out;
}
