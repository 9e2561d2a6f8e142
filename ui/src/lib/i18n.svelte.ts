// Dutch first (B1: short sentences, plain words), English second.
export type Lang = "nl" | "en";

import { nl, nlJe, type Dict, type Register } from "./i18n/nl";
import { en } from "./i18n/en";
import { errorCode } from "./requests";

export const i18n = $state<{ lang: Lang; register: Register }>({ lang: "nl", register: "u" });

export function t(): Dict {
  if (i18n.lang === "en") return en;
  return i18n.register === "je" ? nlJe : nl;
}

export function toggleLang(): void {
  i18n.lang = i18n.lang === "nl" ? "en" : "nl";
  document.documentElement.lang = i18n.lang;
}

export function errorText(e: unknown): string {
  const errors: Record<string, string> = t().errors;
  return errors[errorCode(e)] ?? errors["unknown"] ?? "";
}

// Dates and times follow the chosen language; the clock is always the CJG's (Amsterdam), so a
// line reads the same on every device.
function locale(): string {
  return i18n.lang === "nl" ? "nl-NL" : "en-GB";
}

export function formatDate(iso: string): string {
  const [y, m, d] = iso.split("-").map(Number);
  const date = new Date(y ?? 1970, (m ?? 1) - 1, d ?? 1);
  return date.toLocaleDateString(locale(), {
    weekday: "long",
    day: "numeric",
    month: "long",
    year: "numeric",
  });
}

export function formatDateTime(iso: string): string {
  return new Date(iso).toLocaleString(locale(), {
    day: "numeric",
    month: "long",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZone: "Europe/Amsterdam",
  });
}

export function formatTime(iso: string): string {
  return new Date(iso).toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit", timeZone: "Europe/Amsterdam" });
}

const dayParts = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Amsterdam", year: "numeric", month: "2-digit", day: "2-digit" });

/** The calendar day (YYYY-MM-DD) of a moment in Amsterdam, to group lines by day. */
export function dayOf(iso: string): string {
  const p = Object.fromEntries(dayParts.formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  return `${p["year"]}-${p["month"]}-${p["day"]}`;
}

/** A staff role as a family reads it (a system account is "the CJG's computer system"). */
export function roleText(role: string): string {
  return t().role[role] ?? role;
}
