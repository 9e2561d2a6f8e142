// Generated from the Rust types by `UPDATE_BINDINGS=1 cargo test -p cjg-client`. Do not edit.

export type Phase = "new" | "locked" | "unlocked";

export type Notice = "revoked" | "wiped_wrong_pin" | "device_locked";

export type SecretHome = "keychain" | "file";

export type AccountInfo = { id: string, label: string, secret_home: SecretHome, 
/**
 * Can be opened with the unlock key from the OS keychain, without the PIN.
 */
key_unlock: boolean, };

export type AppStatus = { phase: Phase, 
/**
 * Pre-filled on the welcome screen (from `CJG_SERVER_URL`), never trusted blindly.
 */
default_server_url: string | null, display_name: string | null, notice: Notice | null, auto_lock_minutes: number, 
/**
 * While unlocked and in view, the window syncs this often, quietly, so a coach's answer
 * shows without a tap on Vernieuwen. 0: only when asked.
 */
sync_every_minutes: number, 
/**
 * The accounts on this device, for the lock screen.
 */
accounts: Array<AccountInfo>, 
/**
 * The unlocked account, if any.
 */
account: string | null, 
/**
 * The coach signed in on the staff side, if any.
 */
staff_user: string | null, };

export type DeviceInfo = { id: string, name: string, created_at: string, last_seen_at: string | null, revoked_at: string | null, };

export type DevicesView = { devices: Array<DeviceInfo>, this_device: string, };

export type Visibility = "family" | "child" | "youth_only" | "parents_only" | "staff_only";

export type EntryKind = "gespreksverslag" | "afspraak" | "plan";

export type PersonRole = "parent" | "child" | "carer";

export type Person = { id: string, dossier_id: string, role: PersonRole, display_name: string, birth_date: string, 
/**
 * Parental authority: only parents with gezag see their children's entries.
 */
has_gezag: boolean, 
/**
 * A youth's recorded consent to let the parents with gezag read their entries (from 16).
 */
shares_with_parents: boolean, 
/**
 * The day the consent was given: one given before 16 is asked again at 16
 * ([`crate::policy::consent_to_ask_again`]). Absent in what older servers sent.
 */
consent_on: string | null, version: number, };

export type Entry = { id: string, dossier_id: string, 
/**
 * The child this entry is about; `None` for the family as a whole.
 */
child_id: string | null, kind: EntryKind, visibility: Visibility, title: string, body: string, author_name: string, author_role: string, 
/**
 * The day the conversation or agreement took place.
 */
occurred_on: string, 
/**
 * Starts at 1, +1 on every edit; the tombstone carries the next version.
 */
version: number, updated_at: string, };

export type EntrySummary = { id: string, kind: EntryKind, visibility: Visibility, title: string, child_id: string | null, occurred_on: string, author_name: string, };

export type DossierView = { 
/**
 * Inzage lines not seen yet: someone looked since the last visit.
 */
unseen_audit: number, display_name: string, 
/**
 * The signed-in person as the server describes them (role, consent).
 */
me: Person | null, people: Array<Person>, 
/**
 * The entries asked for, newest first: the first `limit` of those that match the query.
 */
entries: Array<EntrySummary>, 
/**
 * How many entries the dossier has on this device.
 */
total: number, 
/**
 * How many entries match the query (the list is the first part of them).
 */
matching: number, 
/**
 * The youth said their parents may read along before they were 16, and is 16 now: that
 * "yes" no longer counts, and the app asks again.
 */
consent_ask_again: boolean, };

export type DossierQuery = { kind: EntryKind | null, about: EntryAbout | null, 
/**
 * At most this many entries; none: all.
 */
limit: number | null, };

export type EntryAbout = "family" | { "child": string };

export type Span = { text: string, strong?: boolean, emphasis?: boolean, };

export type Block = { "type": "heading", level: number, spans: Array<Span>, } | { "type": "paragraph", spans: Array<Span>, } | { "type": "list", ordered: boolean, items: Array<Array<Span>>, };

export type FeedbackKind = "aanvulling" | "correctie" | "vraag" | "akkoord";

export type FeedbackStatus = "open" | "answered" | "handled" | "refused";

export type Feedback = { id: string, entry_id: string, dossier_id: string, author_id: string, author_name: string, kind: FeedbackKind, text: string, created_at: string, status: FeedbackStatus, answer: string | null, answered_by: string | null, answered_at: string | null, version: number, };

export type PendingFeedback = { id: string, kind: FeedbackKind, text: string, 
/**
 * The code of the server's final refusal, if it refused.
 */
failed: string | null, };

export type FeedbackSent = { 
/**
 * False: kept in the outbox, sent at the next contact.
 */
sent: boolean, };

export type EntryDetail = { entry: Entry, blocks: Array<Block>, 
/**
 * The name of the child the entry is about, if any.
 */
about: string | null, 
/**
 * The person's feedback on this entry as the server confirmed it, oldest first.
 */
feedback: Array<Feedback>, 
/**
 * Feedback still in the outbox.
 */
pending: Array<PendingFeedback>, };

export type AuditAction = "create" | "read" | "update" | "delete" | "export" | "share";

export type Purpose = "hulpverlening" | "gesprek_voorbereiden" | "verslag_schrijven" | "overleg" | "toegangsbesluit" | "overdracht" | "kwaliteit" | "verzoek_client";

export type AuditLine = { position: number, at: string, actor_name: string, actor_role: string, action: AuditAction, object_type: string, 
/**
 * The entry the line is about, when this person can open it.
 */
entry_id: string | null, entry_title: string | null, purpose: Purpose, purpose_note: string | null, 
/**
 * Not yet seen in Inzage.
 */
new: boolean, };

export type AuditProblem = "rewritten" | "gap" | "shrunk" | "backdated" | "not_signed" | "not_mine";

export type AuditWarningView = { at: string, problem: AuditProblem, verified_size: number, received_size: number, 
/**
 * At how many syncs the same broken log came.
 */
times: number, dismissed_at: string | null, };

export type LogFingerprint = { size: number, 
/**
 * Eight characters of the head in two groups, like `3F9A-1C2E`.
 */
code: string, };

export type InzageView = { 
/**
 * The lines asked for, newest first: one page of those that match the query.
 */
lines: Array<AuditLine>, 
/**
 * How many lines the log has.
 */
total: number, 
/**
 * How many lines match the query (the page is a part of them).
 */
matching: number, 
/**
 * How many lines the person has not seen in Inzage yet.
 */
new_count: number, 
/**
 * Every staff member in the log, for the filter.
 */
staff_names: Array<string>, 
/**
 * The newest warning the person has not dismissed yet.
 */
warning: AuditWarningView | null, 
/**
 * Every warning, dismissed or not, newest first.
 */
warnings: Array<AuditWarningView>, fingerprint: LogFingerprint, };

export type InzageQuery = { staff: string | null, action: AuditAction | null, 
/**
 * Only lines from this moment on.
 */
since: string | null, 
/**
 * Only lines older than this one (its position): the next page after the last line
 * shown, which stays right while new lines arrive at the top.
 */
before: number | null, 
/**
 * Lines to skip, newest first.
 */
offset: number, 
/**
 * At most this many lines; none: all (for an export).
 */
limit: number | null, };

export type PdfItem = { heading: string, lines: Array<string>, };

export type PdfDoc = { 
/**
 * The language the items are worded in (BCP 47: `nl`, `ar`, …): the document's language
 * for screen readers, and for a right-to-left language the direction of every line.
 */
lang: string, title: string, subtitle: string, items: Array<PdfItem>, };

export type CaseloadDossier = { id: string, family_name: string, };

export type AuditEvent = { id: string, dossier_id: string, 
/**
 * 1-based place in the dossier's chain.
 */
position: number, actor_id: string, actor_name: string, actor_role: string, action: AuditAction, 
/**
 * What was touched: `dossier`, `entry`, `device`, `activation_code`, `audit_log`.
 */
object_type: string, object_id: string | null, purpose: Purpose, purpose_note: string | null, at: string, 
/**
 * The application the access came through (e.g. `staff-api`).
 */
origin: string, };

export type MyDataView = { me: Person, people: Array<Person>, 
/**
 * Newest first, with their text.
 */
entries: Array<Entry>, 
/**
 * The person's own answered questionnaires, oldest first.
 */
questionnaires: Array<QuestionnaireTask>, 
/**
 * The person's conversation with the coach, oldest first.
 */
messages: Array<Message>, 
/**
 * The access log as this person sees it, oldest first.
 */
audit: Array<AuditEvent>, };

export type StaffDossierView = { dossier_id: string, purpose: Purpose, purpose_expires_at: string, entries: Array<Entry>, 
/**
 * The family members, for whom tips and answers are meant.
 */
people: Array<Person>, 
/**
 * The coach's reading tips: for whom, shown yet, read yet.
 */
tips: Array<StaffTip>, 
/**
 * The family's questionnaires, with the answers that came in.
 */
questionnaires: Array<StaffQuestionnaire>, 
/**
 * Every family member's conversation with the coaches, oldest first.
 */
messages: Array<Message>, 
/**
 * Oldest first, as the server keeps it.
 */
audit: Array<AuditEvent>, };

export type StaffSignInOptions = { 
/**
 * Username, password and second factor (small installs, the demo).
 */
built_in: boolean, 
/**
 * The organisation's own account, through its identity provider (OpenID Connect).
 */
organisation: boolean, };

export type SecondFactorSetupView = { secret: string, 
/**
 * The QR code of the `otpauth://` link, made here (no image goes over the network): the
 * side of its square in modules, and the SVG path of its dark modules.
 */
qr_size: number, qr_path: string, };

export type Progress = { pages: number, items: number, done: boolean, };

export type News = { 
/**
 * Coach messages unread now that were not before.
 */
messages: number, 
/**
 * Tasks to do now that were not before.
 */
tasks: number, };

export type UiCode = "account_label_invalid" | "activation_code_expired" | "activation_code_format" | "activation_code_invalid" | "activation_code_used" | "already_answered" | "answer_invalid" | "answer_missing" | "audit_log_broken" | "browser_not_opened" | "built_in_accounts_off" | "conflict" | "enrol_again" | "device_locked" | "export_failed" | "device_revoked" | "forbidden" | "identity_provider_unreachable" | "insecure_server_url" | "invalid_input" | "invalid_server_url" | "keychain_unavailable" | "locked" | "no_staff_role" | "no_such_account" | "not_enrolled" | "not_found" | "organisation_sign_in_failed" | "pin_format" | "pin_mismatch" | "pin_needs_server" | "pin_too_simple" | "purpose_required" | "questionnaire_outdated" | "questionnaire_read_only" | "rate_limited" | "second_factor_code" | "second_factor_locked" | "second_factor_needed" | "second_factor_setup_needed" | "setup_code" | "server_error" | "server_invalid_response" | "server_unreachable" | "sign_in_cancelled" | "sign_in_timed_out" | "staff_session_ended" | "staff_signed_out" | "store_error" | "store_tampered" | "unauthenticated" | "unlock_key_missing" | "wiped_revoked" | "wiped_wrong_pin" | "wrong_pin" | "wrong_pin_last_try";

export type UiError = { code: UiCode, message: string, };

export type QuestionnairePhase = "start" | "tussentijds" | "eind";

export type Audience = "ouder" | "jongere";

export type ChoiceOption = { value: string, label: string, };

export type ItemKind = { "type": "agree" } | { "type": "rating", low: string, high: string, } | { "type": "choice", options: Array<ChoiceOption>, } | { "type": "open", max_chars: number, };

export type Agree = "eens" | "oneens" | "nvt";

export type Answer = { "type": "agree", "value": Agree } | { "type": "rating", "value": number } | { "type": "choice", "value": string } | { "type": "text", "value": string };

export type ShowIf = { item: string, equals: Answer, };

export type Item = { 
/**
 * Stable across versions for the same question: the report adds answers up by key.
 */
key: string, text: string, kind: ItemKind, required: boolean, show_if: ShowIf | null, };

export type Definition = { 
/**
 * `<phase>-<audience>`, e.g. `eind-ouder`.
 */
key: string, version: number, phase: QuestionnairePhase, audience: Audience, title: string, intro: string, items: Array<Item>, };

export type TaskStatus = "open" | "submitted" | "withdrawn";

export type QuestionnaireTask = { id: string, person_id: string, definition: Definition, available_on: string, due_on: string, status: TaskStatus, 
/**
 * The answers as the server stored them, once submitted.
 */
answers: { [key in string]: Answer } | null, submitted_at: string | null, version: number, };

export type StaffQuestionnaire = { task: QuestionnaireTask, person_name: string, 
/**
 * `None`: sent by the schedule.
 */
sent_by: string | null, };

export type ProgressRow = { 
/**
 * As the newest questionnaire that asked it put it.
 */
item: Item, 
/**
 * One per [`MyProgress::phases`], in that order; `None` where it was not answered.
 */
answers: Array<Answer | null>, 
/**
 * One per phase: whether that questionnaire asked it (unanswered then means left open).
 */
asked: Array<boolean>, };

export type ProgressPhase = { phase: QuestionnairePhase, submitted_at: string, };

export type MyProgress = { 
/**
 * The phases answered, in the order of the trajectory.
 */
phases: Array<ProgressPhase>, 
/**
 * Every question answered at least once, in the order first asked.
 */
rows: Array<ProgressRow>, };

export type TaskState = "open" | "draft" | "sending" | "failed" | "submitted";

export type TaskKind = "questionnaire" | "feedback_request" | "reading_tip";

export type TaskItem = { id: string, kind: TaskKind, 
/**
 * The questionnaire's title, or the title of the entry to react on.
 */
title: string, 
/**
 * The entry to react on, for a feedback request.
 */
entry_id: string | null, 
/**
 * The article to read, for a reading tip.
 */
article_id: string | null, 
/**
 * The coach's words with a feedback request, and who asked.
 */
note: string | null, requested_by: string | null, 
/**
 * For a questionnaire: when in the trajectory it is asked.
 */
phase: QuestionnairePhase | null, available_on: string, due_on: string, state: TaskState, 
/**
 * The code of the server's refusal, when the state is `failed` (or answers from this
 * device were refused after another device answered).
 */
failed: string | null, 
/**
 * Days until the due date; negative when late. Late answers still count.
 */
days_left: number, };

export type TasksView = { 
/**
 * To do first (soonest due first), then done (newest first).
 */
items: Array<TaskItem>, 
/**
 * How many still ask something of the person: the badge.
 */
to_do: number, };

export type QuestionnaireView = { task: QuestionnaireTask, item: TaskItem, 
/**
 * The answers to show: the server's once submitted, else what waits in the outbox, else
 * the draft.
 */
answers: { [key in string]: Answer }, saved_at: string | null, read_only: boolean, };

export type AnswersSent = { 
/**
 * False: kept in the outbox, sent at the next contact.
 */
sent: boolean, };

export type Topic = "slapen" | "schermtijd" | "driftbuien" | "scheiding" | "puberteit" | "school" | "eten" | "broers_en_zussen" | "zindelijkheid" | "pesten" | "ouder_zijn";

export type Language = "nl" | "en";

export type Article = { id: string, 
/**
 * Which approved text this is; a replacement gets a higher one.
 */
revision: number, title: string, summary: string, body: string, topics: Array<Topic>, age_min: number, age_max: number, reading_minutes: number, source: string, language: Language, approved_by: string, approved_at: string, version: number, };

export type ShowAt = "now" | "tussentijds" | "eind";

export type ReadingTip = { id: string, article_id: string, person_id: string, note: string, show_at: ShowAt, from: string, created_at: string, read_at: string | null, version: number, };

export type StaffTip = { tip: ReadingTip, person_name: string, article_title: string, shown: boolean, article_withdrawn: boolean, };

export type RevisionStatus = "draft" | "published" | "replaced";

export type ArticleDraft = { title: string, summary: string, 
/**
 * The markdown subset of [`crate::markdown`]: no HTML, no links, no images ever reach the screen.
 */
body: string, topics: Array<Topic>, age_min: number, age_max: number, source: string, language: Language, };

export type StaffArticle = { id: string, revision: number, status: RevisionStatus, 
/**
 * The whole article is withdrawn: families no longer see any revision.
 */
withdrawn: boolean, draft: ArticleDraft, 
/**
 * SHA-256 of [`ArticleDraft::canonical`], lowercase hex: the staff app sends it back with
 * an approval, so the approval is for exactly the text the editor was shown.
 */
text_hash: string, author: string, approved_by: string | null, approved_at: string | null, };

export type ArticleSummary = { id: string, title: string, summary: string, topics: Array<Topic>, age_min: number, age_max: number, reading_minutes: number, 
/**
 * The person marked it as useful (kept on this device).
 */
useful: boolean, };

export type TipView = { tip: ReadingTip, article: ArticleSummary, 
/**
 * Opened on this device (perhaps not yet told to the server).
 */
read: boolean, };

export type InformatieView = { 
/**
 * The coach's tips whose article is here, newest first.
 */
tips: Array<TipView>, 
/**
 * Matches of the search and filters, best first.
 */
articles: Array<ArticleSummary>, 
/**
 * Topics that occur in the library, for the filter.
 */
topics: Array<Topic>, 
/**
 * Articles on the device in all.
 */
total: number, };

export type ArticleView = { article: Article, blocks: Array<Block>, 
/**
 * The coach's tips that point here.
 */
tips: Array<ReadingTip>, useful: boolean, };

export type Delivery = "waiting" | "failed" | "delivered" | "read";

export type Message = { id: string, 
/**
 * Whose conversation this is.
 */
person_id: string, from_coach: boolean, author_name: string, text: string, created_at: string, 
/**
 * When the other side opened it.
 */
read_at: string | null, version: number, };

export type MessageView = { id: string, from_coach: boolean, author_name: string, text: string, 
/**
 * When the server took it in; `None` while it waits in the outbox.
 */
created_at: string | null, 
/**
 * For one's own messages.
 */
delivery: Delivery | null, failed: string | null, 
/**
 * A coach message the person has not seen yet.
 */
new: boolean, };

export type BerichtenView = { 
/**
 * Oldest first; waiting messages last.
 */
messages: Array<MessageView>, 
/**
 * Coach messages not yet seen: the badge.
 */
unread: number, };

export type MessageSent = { 
/**
 * False: kept in the outbox, sent at the next contact.
 */
sent: boolean, };

export type UsageQuestion = "dossier" | "inzage" | "taken" | "informatie" | "berichten" | "inzage_export";

export type SharedEstimate = { question: UsageQuestion, 
/**
 * Percent of the people who shared, one decimal.
 */
percent: number | null, 
/**
 * Half-width of the 95% interval, in percentage points.
 */
margin: number | null, };

export type UsagePeriod = { "kind": "month", year: number, month: number, } | { "kind": "quarter", year: number, quarter: number, } | { "kind": "half", year: number, half: number, };

export type Measure = "families_in_care" | "families_reached" | "enrolled_parents" | "enrolled_carers" | "enrolled_youth12_to15" | "enrolled_youth16_plus" | "active_persons" | "feedback_aanvulling" | "feedback_correctie" | "feedback_vraag" | "feedback_akkoord" | "questionnaires_sent" | "questionnaires_answered_in_app" | "family_messages" | "family_messages_answered" | "tips_opened" | "devices_revoked_by_family" | "usage_reports_shared";

export type Count = { measure: Measure, value: number | null, };

export type WeekCount = { monday: string, value: number | null, };

export type UsageFigures = { 
/**
 * One per [`Measure::ALL`], in order.
 */
counts: Array<Count>, 
/**
 * Families with the app as a whole percentage of families in care, when both are shown.
 */
reach_percent: number | null, 
/**
 * The median time from a family's message to the coach's answer, in hours with one
 * decimal, when the answered messages are shown.
 */
median_answer_hours: number | null, 
/**
 * Activity per week; empty when activity was not yet counted in the period.
 */
weeks: Array<WeekCount>, 
/**
 * What people who chose to share said they used, estimated from randomized answers; one
 * per [`UsageQuestion::ALL`], without figures when the reports are hidden.
 */
shared: Array<SharedEstimate>, 
/**
 * False when the server began counting activity after the period began: the active
 * persons are then not known.
 */
activity_measured: boolean, };

export type UsageRow = { 
/**
 * Empty on the grand total.
 */
municipality: string, 
/**
 * `None`: all teams of the municipality (or of all municipalities).
 */
team: string | null, current: UsageFigures, previous: UsageFigures, };

export type UsageReport = { period: UsagePeriod, previous_period: UsagePeriod, 
/**
 * The day the server began counting activity, if it has.
 */
activity_counted_from: string | null, rows: Array<UsageRow>, };
