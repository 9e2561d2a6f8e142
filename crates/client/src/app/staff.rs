//! The staff side of the app: a coach signed in, in memory only, gone at lock or exit.

use cjg_core::audit::Purpose;
use uuid::Uuid;

use super::AppCore;
use crate::{ClientError, Result};

impl AppCore {
    /// A coach signs in (online only; the token stays in memory). `one_time_code` once the
    /// server asks for the second factor.
    pub async fn staff_login(
        &self,
        server_url: &str,
        username: &str,
        password: &str,
        one_time_code: Option<&str>,
    ) -> Result<String> {
        let session =
            crate::staff::StaffSession::login(server_url, username, password, one_time_code).await?;
        Ok(self.staff_signed_in(session).await)
    }

    pub async fn staff_sign_in_options(&self, server_url: &str) -> Result<cjg_core::api::StaffSignInOptions> {
        crate::staff::StaffSession::sign_in_options(server_url).await
    }

    /// Signs in with the organisation's account through the system browser (`open_browser`);
    /// waits up to five minutes for the person to finish there.
    pub async fn staff_sign_in_at_organisation(
        &self,
        server_url: &str,
        open_browser: impl FnOnce(&str) -> Result<()>,
    ) -> Result<()> {
        let (cancel, cancelled) = tokio::sync::oneshot::channel();
        // A newer sign-in replaces one still waiting (its sender dropped: it stops too).
        *self.org_sign_in.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(cancel);
        let signing_in = crate::staff::StaffSession::sign_in_at_organisation(
            server_url,
            open_browser,
            std::time::Duration::from_secs(300),
        );
        let session = tokio::select! {
            session = signing_in => session?,
            _ = cancelled => return Err(ClientError::SignInCancelled),
        };
        self.staff_signed_in(session).await;
        Ok(())
    }

    /// The person stopped waiting for the browser: the sign-in ends and its loopback listener
    /// closes, so a late browser finds nobody.
    pub fn staff_sign_in_cancel(&self) {
        if let Some(cancel) =
            self.org_sign_in.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take()
        {
            let _ = cancel.send(());
        }
    }

    /// Signs out on request: the server ends the token (and the organisation's session with
    /// it); the answer is where the browser ends the session at the provider, if anywhere.
    /// The session leaves memory first, whatever the server says.
    pub async fn staff_sign_out(&self) -> Option<String> {
        let session = self.staff.lock().await.take()?;
        tokio::time::timeout(std::time::Duration::from_secs(10), session.logout()).await.ok()?.ok()?
    }

    async fn staff_signed_in(&self, session: crate::staff::StaffSession) -> String {
        let name = session.username.clone();
        if let Some(earlier) = self.staff.lock().await.replace(session) {
            end_on_server(earlier);
        }
        self.touch();
        name
    }

    /// The first sign-in of an account with a second factor to set up: the QR code.
    pub async fn staff_setup_second_factor(
        &self,
        server_url: &str,
        username: &str,
        password: &str,
        setup_code: &str,
    ) -> Result<crate::staff::SecondFactorSetupView> {
        crate::staff::StaffSession::setup_second_factor(server_url, username, password, setup_code).await
    }

    /// The first code confirms the setup and signs in; the recovery codes are shown once and
    /// not kept.
    pub async fn staff_confirm_second_factor(
        &self,
        server_url: &str,
        username: &str,
        password: &str,
        setup_code: &str,
        code: &str,
    ) -> Result<Vec<String>> {
        let (session, recovery) = crate::staff::StaffSession::confirm_second_factor(
            server_url, username, password, setup_code, code,
        )
        .await?;
        self.staff_signed_in(session).await;
        Ok(recovery)
    }

    /// Signs the coach out: the session leaves memory at once, and the server ends its token.
    pub async fn staff_logout(&self) {
        if let Some(session) = self.staff.lock().await.take() {
            end_on_server(session);
        }
    }

    /// The signed-in coach's session, or `StaffSignedOut`.
    async fn staff_session(&self) -> Result<tokio::sync::MappedMutexGuard<'_, crate::staff::StaffSession>> {
        tokio::sync::MutexGuard::try_map(self.staff.lock().await, Option::as_mut)
            .map_err(|_| ClientError::StaffSignedOut)
    }

    pub async fn staff_caseload(&self) -> Result<Vec<cjg_core::api::CaseloadDossier>> {
        self.staff_session().await?.caseload().await
    }

    pub async fn staff_send_message(
        &self,
        person_id: Uuid,
        text: &str,
    ) -> Result<cjg_core::message::Message> {
        self.staff_session().await?.send_message(person_id, text).await
    }

    /// Opens a dossier for the stated purpose: the server logs it, the app keeps nothing.
    pub async fn staff_open(
        &self,
        dossier_id: Uuid,
        purpose: Purpose,
        note: &str,
    ) -> Result<crate::staff::StaffDossierView> {
        self.staff_session().await?.open(dossier_id, purpose, note).await
    }

    pub async fn staff_create_tip(
        &self,
        dossier_id: Uuid,
        person_id: Uuid,
        article_id: Uuid,
        note: &str,
        show_at: cjg_core::article::ShowAt,
    ) -> Result<Vec<cjg_core::article::StaffTip>> {
        self.staff_session().await?.create_tip(dossier_id, person_id, article_id, note, show_at).await
    }

    pub async fn staff_usage_report(&self, period: &str) -> Result<cjg_core::usage::UsageReport> {
        self.staff_session().await?.usage_report(period).await
    }

    /// Saves a staff report the UI worded (the usage report as CSV) in the export folder, while
    /// a staff member is signed in: it holds counts, no family's data.
    pub async fn staff_save_export(
        &self,
        file_name: &str,
        rows: &[Vec<String>],
    ) -> Result<std::path::PathBuf> {
        drop(self.staff_session().await?);
        let bytes = crate::export::csv(rows)?;
        self.write_export_file(file_name, "csv", &bytes)
    }

    pub async fn staff_articles(&self) -> Result<Vec<cjg_core::article::StaffArticle>> {
        self.staff_session().await?.articles().await
    }

    pub async fn staff_save_article(
        &self,
        id: Option<Uuid>,
        draft: cjg_core::article::ArticleDraft,
    ) -> Result<Vec<cjg_core::article::StaffArticle>> {
        self.staff_session().await?.save_article(id, draft).await
    }

    pub async fn staff_approve_article(
        &self,
        id: Uuid,
        revision: u32,
        text_hash: String,
    ) -> Result<Vec<cjg_core::article::StaffArticle>> {
        self.staff_session().await?.approve_article(id, revision, text_hash).await
    }

    pub async fn staff_withdraw_article(&self, id: Uuid) -> Result<Vec<cjg_core::article::StaffArticle>> {
        self.staff_session().await?.withdraw_article(id).await
    }
}

/// Ends a staff token on the server without holding up the caller (a lock must be instant, also
/// offline); if the server cannot be reached the token still ends when it is idle.
pub(super) fn end_on_server(session: crate::staff::StaffSession) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(10), session.logout()).await;
        });
    }
}
