// Dutch first (B1: short sentences, plain words), English second.
export type Lang = "nl" | "en";

import { nl, type Dict } from "./i18n/nl";
import { en } from "./i18n/en";
import { errorCode } from "./requests";

export const i18n = $state<{ lang: Lang }>({ lang: "nl" });

export function t(): Dict {
  return i18n.lang === "nl" ? nl : en;
}

export function toggleLang(): void {
  i18n.lang = i18n.lang === "nl" ? "en" : "nl";
  document.documentElement.lang = i18n.lang;
}

export function errorText(e: unknown): string {
  const errors: Record<string, string> = t().errors;
  return errors[errorCode(e)] ?? errors["unknown"] ?? "";
}

export function formatDate(iso: string): string {
  const [y, m, d] = iso.split("-").map(Number);
  const date = new Date(y ?? 1970, (m ?? 1) - 1, d ?? 1);
  return date.toLocaleDateString(i18n.lang === "nl" ? "nl-NL" : "en-GB", {
    weekday: "long",
    day: "numeric",
    month: "long",
    year: "numeric",
  });
}

export function formatDateTime(iso: string): string {
  return new Date(iso).toLocaleString(i18n.lang === "nl" ? "nl-NL" : "en-GB", {
    day: "numeric",
    month: "long",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZone: "Europe/Amsterdam",
  });
}
