// How an answer reads back, for the person (read-only questionnaire) and the coach alike.
import type { Answer, Item } from "../lib/api";
import { t } from "../lib/i18n.svelte";

export function answerText(a: Answer | undefined, i: Item): string {
  if (!a) return t().q_no_answer;
  switch (a.type) {
    case "agree":
      return t().q_agree[a.value] ?? a.value;
    case "rating":
      return t().q_rating_of(a.value);
    case "choice":
      return (i.kind.type === "choice" ? i.kind.options.find((o) => o.value === a.value)?.label : undefined) ?? a.value;
    case "text":
      return a.value;
  }
}
