// The person's own copy of their dossier as a PDF to read: worded here, in the chosen language,
// from what the app holds (the Rust side only lays it out).
import type { Answer, MyDataView, PdfDoc, PdfItem, QuestionnaireTask } from "./bindings";
import { i18n, t, formatDate, formatDateTime, roleText } from "./i18n.svelte";

/** Markdown as plain lines to read: the marks go, the words stay. */
function plain(markdown: string): string[] {
  return markdown
    .split(/\r?\n/)
    .map((l) => l.replace(/^\s*#+\s*/, "").replace(/^\s*[-*]\s+/, "• ").replace(/\*\*|__|\*|_|`/g, "").trim())
    .filter((l) => l.length > 0);
}

function answerText(task: QuestionnaireTask, key: string, a: Answer): string {
  switch (a.type) {
    case "agree":
      return t().q_agree[a.value];
    case "rating":
      return t().q_rating_of(a.value);
    case "choice": {
      const item = task.definition.items.find((i) => i.key === key);
      const options = item?.kind.type === "choice" ? item.kind.options : [];
      return options.find((o) => o.value === a.value)?.label ?? a.value;
    }
    case "text":
      return a.value;
  }
}

function section(title: string, items: PdfItem[]): PdfItem[] {
  return [{ heading: title.toUpperCase(), lines: items.length === 0 ? [t().mine_none] : [] }, ...items];
}

export function myDataPdf(d: MyDataView): PdfDoc {
  const kind = (k: string) => (t() as unknown as Record<string, string>)[`kind_${k}`] ?? k;
  const entries = d.entries.map((e) => ({
    heading: `${formatDate(e.occurred_on)} · ${kind(e.kind)} · ${e.title}`,
    lines: [t().mine_written_by(e.author_name), ...plain(e.body)],
  }));
  const answers = d.questionnaires.map((q) => ({
    heading: q.definition.title,
    lines: [
      ...(q.submitted_at ? [t().mine_answered_on(formatDateTime(q.submitted_at))] : []),
      ...q.definition.items
        .filter((i) => q.answers?.[i.key] !== undefined)
        .map((i) => `${i.text} ${answerText(q, i.key, q.answers![i.key]!)}`),
    ],
  }));
  const messages = d.messages.map((m) => ({ heading: `${formatDateTime(m.created_at)} · ${m.author_name}`, lines: plain(m.text) }));
  const log = d.audit.map((l) => ({
    heading: `${formatDateTime(l.at)} · ${l.actor_name} (${roleText(l.actor_role)})`,
    lines: [
      `${t().action[l.action] ?? l.action} ${t().object[l.object_type] ?? t().object["other"]}.`,
      `${t().line_why}: ${t().purpose[l.purpose] ?? l.purpose}${l.purpose_note ? `. ${l.purpose_note}` : ""}`,
    ],
  }));
  return {
    lang: i18n.lang,
    title: t().mine_pdf_title,
    subtitle: t().mine_pdf_subtitle(d.me.display_name, formatDateTime(new Date().toISOString())),
    items: [
      ...section(t().mine_entries, entries),
      ...section(t().mine_answers, answers),
      ...section(t().mine_messages, messages),
      ...section(t().mine_log, log),
    ],
  };
}
