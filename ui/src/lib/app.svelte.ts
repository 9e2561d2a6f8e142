// The state every screen of the client app shares, and the steps that change it. App.svelte
// only lays it out; a screen that needs to move the app (open an entry, go to Taken, sync)
// calls these steps instead of keeping a copy of the state.
import { tick } from "svelte";
import { api, type AppStatus, type DossierQuery, type DossierView, type EntryDetail, type EntryKind, type TasksView } from "./api";
import { t, errorText, i18n } from "./i18n.svelte";
import { errorCode, Latest, STALE } from "./requests";

/** `about`: "" = everyone, "family" = entries about the whole family, else a child's id. */
export type DossierList = { kind: "" | EntryKind; about: string; shown: number };

export const DOSSIER_PAGE = 50;
const FIRST_PAGE: DossierList = { kind: "", about: "", shown: DOSSIER_PAGE };

export type Module = "dossier" | "inzage" | "taken" | "informatie" | "berichten" | "settings";

class AppState {
  status = $state<AppStatus | null>(null);
  /** Set when the app cannot even say its status: nothing else can be shown. */
  fatal = $state("");
  module = $state<Module>("dossier");
  view = $state<DossierView | null>(null);
  /** The open entry: `undefined` when none is open, `null` when it is no longer there. */
  detail = $state<EntryDetail | null | undefined>(undefined);
  /** The Dossier list's filters and how many of its entries are drawn, kept across an entry. */
  dossierList = $state<DossierList>({ ...FIRST_PAGE });
  tasks = $state<TasksView | null>(null);
  taskId = $state<string | null>(null);
  articleId = $state<string | null>(null);
  syncing = $state(false);
  notice = $state("");
  noticeIsError = $state(false);
  unreadMessages = $state(0);
  /** Set when more coach messages are unread than before; cleared on opening Berichten. */
  messageNotice = $state(0);
  /** Finished syncs, so an open screen can show what came in. */
  synced = $state(0);
  lockedByTimer = $state(false);
  /** Adding a second account from the lock screen. */
  adding = $state(false);
  staffMode = $state(false);

  // A quick tap and a sync finishing at once ask twice: only the newest answer shows.
  private dossierAsked = new Latest();
  private tasksAsked = new Latest();
  private entryAsked = new Latest();
  private quiet = false;

  refreshStatus = async (): Promise<void> => {
    try {
      this.status = await api.status();
    } catch (e) {
      this.fatal = errorText(e);
    }
  };

  loadDossier = async (): Promise<void> => {
    const { kind, about, shown } = this.dossierList;
    const query: DossierQuery = {
      kind: kind === "" ? null : kind,
      about: about === "" ? null : about === "family" ? "family" : { child: about },
      limit: shown,
    };
    const found = await this.dossierAsked.run(() => api.dossier(query));
    if (found !== STALE) {
      this.view = found;
      // A young person reads "je", a parent or carer "u".
      i18n.register = found.me?.role === "child" ? "je" : "u";
    }
    await this.loadTasks();
  };

  /** Other filters, or more of the list: the app core picks the entries, the window shows them. */
  showDossier = async (change: Partial<DossierList>): Promise<void> => {
    this.dossierList = { ...this.dossierList, ...change };
    await this.loadDossier();
  };

  loadTasks = async (): Promise<void> => {
    try {
      const found = await this.tasksAsked.run(async () => ({ tasks: await api.tasks(), berichten: await api.berichten() }));
      if (found === STALE) return;
      this.tasks = found.tasks;
      const unread = found.berichten.unread;
      if (unread === 0 || this.module === "berichten") this.messageNotice = 0;
      else if (unread > this.unreadMessages) this.messageNotice = unread;
      this.unreadMessages = unread;
    } catch {
      this.tasks = null;
    }
  };

  goTo = (m: Module): void => {
    this.detail = undefined;
    this.taskId = null;
    this.articleId = null;
    this.module = m;
    if (m === "berichten") this.messageNotice = 0;
    // Kept on the device only if the person chose to share how they use the app.
    if (m !== "settings") api.noteUse(m).catch(() => {});
    // On a phone the modules scroll sideways: keep the chosen one in view.
    tick().then(() =>
      document.querySelector('.tab[aria-current="page"]')?.scrollIntoView({ block: "nearest", inline: "nearest" }));
  };

  /** Opens an article in Informatie (from a reading tip in Taken). */
  openArticle = (id: string): void => {
    this.module = "informatie";
    this.articleId = id;
    api.noteUse("informatie").catch(() => {});
  };

  sync = async (): Promise<void> => {
    if (this.syncing) return;
    this.syncing = true;
    this.notice = t().syncing;
    this.noticeIsError = false;
    try {
      await api.sync(true);
      this.synced += 1;
      this.notice = t().sync_done;
    } catch (e) {
      if (errorCode(e) === "wiped_revoked") {
        this.syncing = false;
        await this.wiped();
        return;
      }
      const offline = errorCode(e) === "server_unreachable";
      this.notice = `${offline ? t().sync_failed_offline : errorText(e)} ${t().sync_failed_keep}`;
      this.noticeIsError = true;
    } finally {
      this.syncing = false;
      await this.loadDossier();
    }
  };

  /** The sync in the background: no progress line, no message when offline (Vernieuwen says that). */
  quietSync = async (): Promise<void> => {
    if (this.quiet || this.syncing || this.staffMode || this.status?.phase !== "unlocked"
      || document.visibilityState !== "visible") return;
    this.quiet = true;
    try {
      await api.sync(false);
      this.synced += 1;
      await this.loadDossier();
    } catch (e) {
      if (errorCode(e) === "wiped_revoked") await this.wiped();
    } finally {
      this.quiet = false;
    }
  };

  /** The app synced because the server said something changed: show what came in. */
  pushSynced = async (): Promise<void> => {
    if (this.staffMode || this.status?.phase !== "unlocked") return;
    this.synced += 1;
    await this.loadDossier();
  };

  pushFailed = async (e: unknown): Promise<void> => {
    if (errorCode(e) === "wiped_revoked") await this.wiped();
  };

  private shownDuringSync = 0;

  /** A page of the sync was stored. A big first sync takes seconds: what is stored shows
   * meanwhile. Until the first screen is full the list is shown again every two seconds, after
   * that every ten: each time costs the sync the whole list, and the screen shows no more. */
  syncProgress = (items: number): void => {
    if (this.syncing) this.notice = t().sync_progress(items);
    const now = Date.now();
    const shown = this.view?.entries.length ?? 0;
    const every = shown < DOSSIER_PAGE ? 2000 : 10_000;
    if (this.status?.phase === "unlocked" && !this.staffMode && now - this.shownDuringSync > every) {
      this.shownDuringSync = now;
      this.loadDossier().catch(() => {});
    }
  };

  unlocked = async (andSync: boolean): Promise<void> => {
    this.lockedByTimer = false;
    this.adding = false;
    await this.refreshStatus();
    await this.loadDossier();
    api.noteUse("dossier").catch(() => {});
    if (andSync) await this.sync();
  };

  /** Nothing of the dossier stays on screen once the app is locked or emptied. */
  clearScreen = (): void => {
    // A list still on its way (a sync's redraw as the app locked) must not land after this: it
    // would put the locked account's dossier, and its "je", back.
    this.dossierAsked.drop();
    this.tasksAsked.drop();
    this.entryAsked.drop();
    this.view = null;
    i18n.register = "u";
    this.dossierList = { ...FIRST_PAGE };
    this.detail = undefined;
    this.tasks = null;
    this.taskId = null;
    this.articleId = null;
    this.notice = "";
    this.module = "dossier";
    this.unreadMessages = 0;
    this.messageNotice = 0;
  };

  lock = async (): Promise<void> => {
    await api.lock();
    this.clearScreen();
    await this.refreshStatus();
  };

  /** The app locked itself after a quiet while. */
  lockedByApp = async (): Promise<void> => {
    this.clearScreen();
    this.staffMode = false;
    this.lockedByTimer = true;
    await this.refreshStatus();
  };

  wiped = async (): Promise<void> => {
    this.clearScreen();
    await this.refreshStatus();
  };

  open = async (id: string): Promise<void> => {
    const found = await this.entryAsked.run(() => api.entry(id));
    if (found !== STALE) this.detail = found;
  };

  /** Back from an entry to the list, with the focus on the entry that was open. */
  back = async (): Promise<void> => {
    const id = this.detail?.entry.id;
    this.detail = undefined;
    await tick();
    const el = id ? document.querySelector<HTMLElement>(`[data-entry-id="${CSS.escape(id)}"]`) : null;
    el?.focus();
  };
}

export const app = new AppState();
