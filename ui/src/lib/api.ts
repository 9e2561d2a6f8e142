// The IPC boundary. The types are generated from Rust (bindings.ts); keys and PINs never come back.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

import type { AppStatus, DossierView, EntryDetail, Progress } from "./bindings";

export type * from "./bindings";

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
