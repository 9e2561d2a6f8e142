// The IPC boundary. The types are generated from Rust (bindings.ts); keys and PINs never come back.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

import type {
  AppStatus, CaseloadDossier, FeedbackKind, FeedbackSent, DevicesView, DossierQuery, DossierView, EntryDetail, InzageQuery, InzageView, MyDataView, PdfDoc, Progress, Purpose,
  StaffDossierView, StaffSignInOptions, SecondFactorSetupView, StaffArticle, StaffTip, ArticleDraft, ShowAt, Block, TasksView, MyProgress, QuestionnaireView, Answer, AnswersSent, InformatieView, ArticleView, Topic, BerichtenView, MessageSent, Message, News, UsageReport, UsageQuestion,
} from "./bindings";

export type Answers = { [key in string]: Answer };

export type * from "./bindings";

export const api = {
  status: () => invoke<AppStatus>("status"),
  checkServer: (serverUrl: string) => invoke<void>("check_server", { serverUrl }),
  enrol: (serverUrl: string, code: string, pin: string, pinAgain: string, label: string) =>
    invoke<void>("enrol", { serverUrl, code, pin, pinAgain, label }),
  unlock: (accountId: string, pin: string) => invoke<void>("unlock", { accountId, pin }),
  unlockWithKeychain: (accountId: string) => invoke<void>("unlock_with_keychain", { accountId }),
  setKeyUnlock: (enabled: boolean) => invoke<void>("set_key_unlock", { enabled }),
  forgetAccount: (accountId: string) => invoke<void>("forget_account", { accountId }),
  lock: () => invoke<void>("lock"),
  /** `checkLog`: the person asked for this sync, so the whole access log is checked too. */
  sync: (checkLog: boolean) => invoke<Progress>("sync", { checkLog }),
  dossier: (query: DossierQuery) => invoke<DossierView>("dossier", { query }),
  entry: (id: string) => invoke<EntryDetail | null>("entry", { id }),
  touch: () => invoke<void>("touch"),
  changePin: (oldPin: string, newPin: string, newPinAgain: string) =>
    invoke<void>("change_pin", { oldPin, newPin, newPinAgain }),
  devices: () => invoke<DevicesView>("devices"),
  revokeDevice: (deviceId: string) => invoke<void>("revoke_device", { deviceId }),
  /** One page of the access log's lines that match the filters, newest first. */
  inzage: (query: InzageQuery) => invoke<InzageView>("inzage", { query }),
  markInzageSeen: () => invoke<void>("mark_inzage_seen"),
  dismissAuditWarnings: () => invoke<void>("dismiss_audit_warnings"),
  saveExport: (fileName: string, rows: string[][]) => invoke<string>("save_export", { fileName, rows }),
  saveExportPdf: (fileName: string, doc: PdfDoc) => invoke<string>("save_export_pdf", { fileName, doc }),
  /** Everything the app holds of the person's dossier, for their own copy. */
  myData: () => invoke<MyDataView>("my_data"),
  /** The same as a FHIR Bundle in the export folder; answers with the path. */
  saveFhirExport: () => invoke<string>("save_fhir_export"),
  staffLogin: (serverUrl: string, username: string, password: string, oneTimeCode: string | null) =>
    invoke<string>("staff_login", { serverUrl, username, password, oneTimeCode }),
  staffSetupSecondFactor: (serverUrl: string, username: string, password: string, setupCode: string) =>
    invoke<SecondFactorSetupView>("staff_setup_second_factor", { serverUrl, username, password, setupCode }),
  staffConfirmSecondFactor: (serverUrl: string, username: string, password: string, setupCode: string, code: string) =>
    invoke<string[]>("staff_confirm_second_factor", { serverUrl, username, password, setupCode, code }),
  staffLogout: () => invoke<void>("staff_logout"),
  staffSignInOptions: (serverUrl: string) => invoke<StaffSignInOptions>("staff_sign_in_options", { serverUrl }),
  staffSignInCancel: () => invoke<void>("staff_sign_in_cancel"),
  /** Opens the organisation's sign-in page in the system browser and waits until it is done. */
  staffSignInAtOrganisation: (serverUrl: string) => invoke<void>("staff_sign_in_at_organisation", { serverUrl }),
  staffCaseload: () => invoke<CaseloadDossier[]>("staff_caseload"),
  staffOpen: (dossierId: string, purpose: Purpose, note: string) =>
    invoke<StaffDossierView>("staff_open", { dossierId, purpose, note }),
  sendFeedback: (entryId: string, kind: FeedbackKind, text: string) =>
    invoke<FeedbackSent>("send_feedback", { entryId, kind, text }),
  discardFeedback: (id: string) => invoke<void>("discard_feedback", { id }),
  tasks: () => invoke<TasksView>("tasks"),
  myProgress: () => invoke<MyProgress>("my_progress"),
  questionnaire: (taskId: string) => invoke<QuestionnaireView | null>("questionnaire", { taskId }),
  saveQuestionnaireDraft: (taskId: string, answers: Answers) =>
    invoke<string>("save_questionnaire_draft", { taskId, answers }),
  submitQuestionnaire: (taskId: string, answers: Answers) =>
    invoke<AnswersSent>("submit_questionnaire", { taskId, answers }),
  takeBackRefusedAnswers: (taskId: string) => invoke<void>("take_back_refused_answers", { taskId }),
  informatie: (query: string, topic: Topic | null, age: number | null, onlyUseful: boolean) =>
    invoke<InformatieView>("informatie", { query, topic, age, onlyUseful }),
  setArticleUseful: (id: string, useful: boolean) => invoke<void>("set_article_useful", { id, useful }),
  article: (id: string) => invoke<ArticleView | null>("article", { id }),
  berichten: () => invoke<BerichtenView>("berichten"),
  markMessagesRead: () => invoke<void>("mark_messages_read"),
  sendMessage: (text: string) => invoke<MessageSent>("send_message", { text }),
  discardMessage: (id: string) => invoke<void>("discard_message", { id }),
  staffSendMessage: (personId: string, text: string) => invoke<Message>("staff_send_message", { personId, text }),
  staffCreateTip: (dossierId: string, personId: string, articleId: string, note: string, showAt: ShowAt) =>
    invoke<StaffTip[]>("staff_create_tip", { dossierId, personId, articleId, note, showAt }),
  staffArticles: () => invoke<StaffArticle[]>("staff_articles"),
  staffUsageReport: (period: string) => invoke<UsageReport>("staff_usage_report", { period }),
  usageSharing: () => invoke<boolean>("usage_sharing"),
  setUsageSharing: (on: boolean) => invoke<void>("set_usage_sharing", { on }),
  noteUse: (question: UsageQuestion) => invoke<void>("note_use", { question }),
  staffSaveExport: (fileName: string, rows: string[][]) => invoke<string>("staff_save_export", { fileName, rows }),
  staffSaveArticle: (id: string | null, draft: ArticleDraft) => invoke<StaffArticle[]>("staff_save_article", { id, draft }),
  // The hash names the text the editor was shown: the server approves nothing else.
  staffApproveArticle: (id: string, revision: number, textHash: string) =>
    invoke<StaffArticle[]>("staff_approve_article", { id, revision, textHash }),
  staffWithdrawArticle: (id: string) => invoke<StaffArticle[]>("staff_withdraw_article", { id }),
  previewMarkdown: (body: string) => invoke<Block[]>("preview_markdown", { body }),
  setConsent: (sharesWithParents: boolean) => invoke<void>("set_consent", { sharesWithParents }),
  onProgress: (f: (p: Progress) => void): Promise<UnlistenFn> =>
    listen<Progress>("sync-progress", (e) => f(e.payload)),
  onLocked: (f: () => void): Promise<UnlistenFn> => listen("locked", () => f()),
  /** The server said something changed and the app synced (push). */
  onPushSynced: (f: (news: News) => void): Promise<UnlistenFn> =>
    listen<News>("push-synced", (e) => f(e.payload)),
  onPushFailed: (f: (error: unknown) => void): Promise<UnlistenFn> =>
    listen("push-failed", (e) => f(e.payload)),
};
