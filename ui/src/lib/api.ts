// The IPC boundary. These types mirror crates/client/src/app.rs; keys and PINs never come back.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

export type Phase = "new" | "locked" | "unlocked";
export type EntryKind = "gespreksverslag" | "afspraak" | "plan";

export interface AppStatus {
  phase: Phase;
  default_server_url: string | null;
  display_name: string | null;
}

export interface Person {
  id: string;
  dossier_id: string;
  role: "parent" | "child";
  display_name: string;
  birth_date: string;
  version: number;
}

export interface EntrySummary {
  id: string;
  kind: EntryKind;
  title: string;
  child_id: string | null;
  occurred_on: string;
  author_name: string;
}

export interface DossierView {
  display_name: string;
  people: Person[];
  entries: EntrySummary[];
}

export interface Span {
  text: string;
  strong?: boolean;
  emphasis?: boolean;
}

export type Block =
  | { type: "heading"; level: number; spans: Span[] }
  | { type: "paragraph"; spans: Span[] }
  | { type: "list"; ordered: boolean; items: Span[][] };

export interface EntryDetail {
  entry: {
    id: string;
    kind: EntryKind;
    title: string;
    body: string;
    author_name: string;
    author_role: string;
    occurred_on: string;
    updated_at: string;
    child_id: string | null;
    version: number;
  };
  blocks: Block[];
  about: string | null;
}

export interface Progress {
  pages: number;
  items: number;
  done: boolean;
}

/** What every failed command returns: a stable code the UI turns into a Dutch sentence. */
export interface UiError {
  code: string;
  message: string;
}

export function isUiError(e: unknown): e is UiError {
  return typeof e === "object" && e !== null && "code" in e && typeof (e as UiError).code === "string";
}

export const api = {
  status: () => invoke<AppStatus>("status"),
  checkServer: (serverUrl: string) => invoke<void>("check_server", { serverUrl }),
  enrol: (serverUrl: string, code: string, pin: string, pinAgain: string) =>
    invoke<void>("enrol", { serverUrl, code, pin, pinAgain }),
  unlock: (pin: string) => invoke<void>("unlock", { pin }),
  lock: () => invoke<void>("lock"),
  sync: () => invoke<Progress>("sync"),
  dossier: () => invoke<DossierView>("dossier"),
  entry: (id: string) => invoke<EntryDetail | null>("entry", { id }),
  onProgress: (f: (p: Progress) => void): Promise<UnlistenFn> =>
    listen<Progress>("sync-progress", (e) => f(e.payload)),
};
