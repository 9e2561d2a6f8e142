// Two helpers every screen needs when it asks the app something.
import type { UiCode } from "./bindings";

/** The stable code of an error from the app (`UiError`), or "unknown" for anything else. */
export function errorCode(e: unknown): UiCode | "unknown" {
  if (typeof e === "object" && e !== null && "code" in e && typeof e.code === "string") {
    return e.code as UiCode;
  }
  return "unknown";
}

/** The message that comes with an app error (for a refused answer: the item it points at). */
export function errorMessage(e: unknown): string {
  return typeof e === "object" && e !== null && "message" in e && typeof e.message === "string" ? e.message : "";
}

/** Returned by {@link Latest.run} for an answer that a newer request has overtaken. */
export const STALE: unique symbol = Symbol("stale");

/**
 * Answers can come back out of order (a list loads, then a filter is clicked at once; an entry
 * is opened, then another): only the answer to the latest request may fill a view. An error
 * of an older request is dropped too.
 */
export class Latest {
  private asked = 0;

  async run<T>(request: () => Promise<T>): Promise<T | typeof STALE> {
    const mine = ++this.asked;
    try {
      const answer = await request();
      return mine === this.asked ? answer : STALE;
    } catch (e) {
      if (mine === this.asked) throw e;
      return STALE;
    }
  }

  /** Every answer still on its way is stale: the screen it was for is gone (the app locked). */
  drop(): void {
    this.asked += 1;
  }
}
