//! The TypeScript declarations of every type that crosses the IPC boundary.

use cjg_core::api::DeviceInfo;
use cjg_core::audit::{AuditAction, Purpose};
use cjg_core::feedback::{Feedback, FeedbackKind, FeedbackStatus};
use cjg_core::markdown::Block;
use cjg_core::{Entry, EntryKind, Person};
use ts_rs::TS;

use super::*;
use crate::secret::SecretHome;

/// The TypeScript declarations of every type that crosses the IPC boundary, as the UI
/// imports them from `ui/src/lib/bindings.ts`.
pub fn typescript_bindings() -> String {
    use cjg_core::markdown::Span;
    use cjg_core::PersonRole;
    let cfg = ts_rs::Config::new();
    let decls = [
        Phase::decl(&cfg),
        Notice::decl(&cfg),
        SecretHome::decl(&cfg),
        AccountInfo::decl(&cfg),
        AppStatus::decl(&cfg),
        DeviceInfo::decl(&cfg),
        DevicesView::decl(&cfg),
        cjg_core::entry::Visibility::decl(&cfg),
        EntryKind::decl(&cfg),
        PersonRole::decl(&cfg),
        Person::decl(&cfg),
        Entry::decl(&cfg),
        EntrySummary::decl(&cfg),
        DossierView::decl(&cfg),
        super::DossierQuery::decl(&cfg),
        super::EntryAbout::decl(&cfg),
        Span::decl(&cfg),
        Block::decl(&cfg),
        FeedbackKind::decl(&cfg),
        FeedbackStatus::decl(&cfg),
        Feedback::decl(&cfg),
        PendingFeedback::decl(&cfg),
        FeedbackSent::decl(&cfg),
        EntryDetail::decl(&cfg),
        AuditAction::decl(&cfg),
        Purpose::decl(&cfg),
        AuditLine::decl(&cfg),
        cjg_core::audit::AuditProblem::decl(&cfg),
        AuditWarningView::decl(&cfg),
        super::LogFingerprint::decl(&cfg),
        InzageView::decl(&cfg),
        super::InzageQuery::decl(&cfg),
        crate::export::PdfItem::decl(&cfg),
        crate::export::PdfDoc::decl(&cfg),
        cjg_core::api::CaseloadDossier::decl(&cfg),
        cjg_core::audit::AuditEvent::decl(&cfg),
        super::MyDataView::decl(&cfg),
        crate::staff::StaffDossierView::decl(&cfg),
        cjg_core::api::StaffSignInOptions::decl(&cfg),
        crate::staff::SecondFactorSetupView::decl(&cfg),
        crate::Progress::decl(&cfg),
        super::News::decl(&cfg),
        crate::UiCode::decl(&cfg),
        crate::UiError::decl(&cfg),
    ];
    use cjg_core::questionnaire as q;
    let taken = [
        q::Phase::decl(&cfg),
        q::Audience::decl(&cfg),
        q::ChoiceOption::decl(&cfg),
        q::ItemKind::decl(&cfg),
        q::Agree::decl(&cfg),
        q::Answer::decl(&cfg),
        q::ShowIf::decl(&cfg),
        q::Item::decl(&cfg),
        q::Definition::decl(&cfg),
        q::TaskStatus::decl(&cfg),
        q::QuestionnaireTask::decl(&cfg),
        q::StaffQuestionnaire::decl(&cfg),
        q::ProgressRow::decl(&cfg),
        q::ProgressPhase::decl(&cfg),
        q::MyProgress::decl(&cfg),
        TaskState::decl(&cfg),
        TaskKind::decl(&cfg),
        TaskItem::decl(&cfg),
        TasksView::decl(&cfg),
        QuestionnaireView::decl(&cfg),
        AnswersSent::decl(&cfg),
        cjg_core::article::Topic::decl(&cfg),
        cjg_core::article::Language::decl(&cfg),
        cjg_core::article::Article::decl(&cfg),
        cjg_core::article::ShowAt::decl(&cfg),
        cjg_core::article::ReadingTip::decl(&cfg),
        cjg_core::article::StaffTip::decl(&cfg),
        cjg_core::article::RevisionStatus::decl(&cfg),
        cjg_core::article::ArticleDraft::decl(&cfg),
        cjg_core::article::StaffArticle::decl(&cfg),
        ArticleSummary::decl(&cfg),
        TipView::decl(&cfg),
        InformatieView::decl(&cfg),
        ArticleView::decl(&cfg),
        Delivery::decl(&cfg),
        cjg_core::message::Message::decl(&cfg),
        MessageView::decl(&cfg),
        BerichtenView::decl(&cfg),
        MessageSent::decl(&cfg),
        cjg_core::usage::UsageQuestion::decl(&cfg),
        cjg_core::usage::SharedEstimate::decl(&cfg),
        cjg_core::usage::UsagePeriod::decl(&cfg),
        cjg_core::usage::Measure::decl(&cfg),
        cjg_core::usage::Count::decl(&cfg),
        cjg_core::usage::WeekCount::decl(&cfg),
        cjg_core::usage::UsageFigures::decl(&cfg),
        cjg_core::usage::UsageRow::decl(&cfg),
        cjg_core::usage::UsageReport::decl(&cfg),
    ];
    let decls: Vec<String> = decls.into_iter().chain(taken).collect();
    let mut out = String::from(
        "// Generated from the Rust types by `UPDATE_BINDINGS=1 cargo test -p cjg-client`. Do not edit.\n",
    );
    for d in decls {
        out.push_str("\nexport ");
        out.push_str(&d);
        out.push('\n');
    }
    out
}
