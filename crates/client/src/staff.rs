//! The staff side of the app: online only, nothing stored. A coach signs in, picks a family of
//! their caseload, states why, and reads the dossier, the family's questionnaires and the
//! access log; the server decides
//! and logs every step.

use cjg_core::api::{
    CaseloadDossier, OrganisationSignInFinish, OrganisationSignInStart, OrganisationSignInUrl,
    SecondFactorConfirm, SecondFactorConfirmed, SecondFactorSetup, SecondFactorSetupRequest,
    StaffLoginRequest, StaffSignInOptions, StaffSignedOut, TokenResponse, SYNC_PAGE_MAX_BYTES,
};
use cjg_core::article::{ApproveRequest, ArticleDraft, ReadingTip, ShowAt, StaffArticle, StaffTip, TipDraft};
use cjg_core::audit::{AuditEvent, Purpose, PurposeRequest, PurposeResponse};
use cjg_core::message::{Message, MessageDraft, StaffMessageDraft};
use cjg_core::questionnaire::StaffQuestionnaire;
use cjg_core::{Entry, Person};
use serde::Serialize;
use ts_rs::TS;
use uuid::Uuid;

use crate::{Client, ClientError, Result};

/// How an article body will look to families: the same safe subset as in their app. Checked
/// like the server checks it, so a preview never shows what cannot be saved.
pub fn preview_markdown(body: &str) -> Result<Vec<cjg_core::markdown::Block>> {
    let body = cjg_core::validate::multi_line("body", body, cjg_core::article::BODY_MAX)?;
    Ok(cjg_core::markdown::render(&body))
}

/// What the setup screen shows: the QR code for the authenticator app, and the secret to type
/// in by hand when scanning is not possible.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SecondFactorSetupView {
    pub secret: String,
    /// The QR code of the `otpauth://` link, made here (no image goes over the network): the
    /// side of its square in modules, and the SVG path of its dark modules.
    pub qr_size: u32,
    pub qr_path: String,
}

/// Six digits or a recovery code, checked before it goes anywhere.
fn checked_code(code: &str) -> Result<String> {
    if cjg_core::second_factor::parse_code(code).is_none() {
        return Err(ClientError::Validation(cjg_core::validate::ValidationError::Invalid {
            field: "one_time_code",
            reason: "six digits, or a recovery code of ten letters and digits",
        }));
    }
    Ok(code.trim().to_owned())
}

/// The administrator's setup code, checked before it goes anywhere.
fn checked_setup_code(code: &str) -> Result<String> {
    if cjg_core::second_factor::parse_setup_code(code).is_none() {
        return Err(ClientError::Validation(cjg_core::validate::ValidationError::Invalid {
            field: "setup_code",
            reason: "ten letters and digits, as the administrator gave them",
        }));
    }
    Ok(code.trim().to_owned())
}

/// The QR code of `text` as an SVG path (`d`) of its dark modules, with the standard quiet zone,
/// and the side of the square it fills. The screen draws it as an SVG path: data, not markup.
fn qr_path(text: &str) -> Option<(u32, String)> {
    let qr = qrcodegen::QrCode::encode_text(text, qrcodegen::QrCodeEcc::Medium).ok()?;
    let (size, border) = (qr.size(), 4);
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    Some((u32::try_from(size + 2 * border).ok()?, path))
}

/// A signed-in staff member: the token lives in memory only.
pub struct StaffSession {
    client: Client,
    token: String,
    pub username: String,
}

/// What the staff view of one dossier shows.
#[derive(Debug, Clone, Serialize, TS)]
pub struct StaffDossierView {
    pub dossier_id: Uuid,
    pub purpose: Purpose,
    pub purpose_expires_at: chrono::DateTime<chrono::Utc>,
    pub entries: Vec<Entry>,
    /// The family members, for whom tips and answers are meant.
    pub people: Vec<Person>,
    /// The coach's reading tips: for whom, shown yet, read yet.
    pub tips: Vec<StaffTip>,
    /// The family's questionnaires, with the answers that came in.
    pub questionnaires: Vec<StaffQuestionnaire>,
    /// Every family member's conversation with the coaches, oldest first.
    pub messages: Vec<Message>,
    /// Oldest first, as the server keeps it.
    pub audit: Vec<AuditEvent>,
}

impl StaffSession {
    /// Signs in; `one_time_code` is the code from the authenticator app or a recovery code, once
    /// the server asked for it (`second_factor_needed`).
    pub async fn login(
        server_url: &str,
        username: &str,
        password: &str,
        one_time_code: Option<&str>,
    ) -> Result<Self> {
        let (client, username) = Self::credentials_checked(server_url, username, password)?;
        let one_time_code = one_time_code.map(checked_code).transpose()?;
        let req = client.http.post(format!("{}/v1/staff/login", client.base)).json(&StaffLoginRequest {
            username: username.clone(),
            password: password.to_owned(),
            one_time_code,
        });
        let token: TokenResponse = client.send(req, 64 * 1024).await?;
        Ok(Self { client, token: token.token, username })
    }

    /// How staff sign in on this server.
    pub async fn sign_in_options(server_url: &str) -> Result<StaffSignInOptions> {
        let client = Client::new(server_url)?;
        let req = client.http.get(format!("{}/v1/staff/sign-in-options", client.base));
        client.send(req, 4 * 1024).await
    }

    /// Signs in with the organisation's account: the provider's page opens in the system
    /// browser (`open_browser`), never in the app, and the browser comes back to a one-time
    /// loopback address of this computer with a handoff. Only this app can trade it: the server
    /// holds a hash of a secret the app never sent before.
    pub async fn sign_in_at_organisation(
        server_url: &str,
        open_browser: impl FnOnce(&str) -> Result<()>,
        within: std::time::Duration,
    ) -> Result<Self> {
        let client = Client::new(server_url)?;
        let loopback = crate::loopback::Loopback::open().await?;
        let verifier = cjg_crypto::b64(&cjg_crypto::random_array::<32>()?);
        let challenge = cjg_crypto::b64(&cjg_crypto::sha256(verifier.as_bytes()));
        let req =
            client.http.post(format!("{}/v1/staff/oidc/start", client.base)).json(&OrganisationSignInStart {
                return_to: loopback.return_to.clone(),
                app_challenge: challenge,
            });
        let started: OrganisationSignInUrl = client.send(req, 16 * 1024).await?;
        // Only a web address goes to the operating system to open, never another scheme.
        let url = reqwest::Url::parse(&started.authorize_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "https" | "http"))
            .ok_or_else(|| ClientError::InvalidResponse("the sign-in page is not a web address".into()))?;
        open_browser(url.as_str())?;
        let handoff = match loopback.wait(within).await? {
            crate::loopback::Returned::Handoff(h) => h,
            crate::loopback::Returned::Error(code) => {
                let code = serde_json::from_value(serde_json::Value::String(code))
                    .unwrap_or(cjg_core::ErrorCode::OrganisationSignInFailed);
                return Err(ClientError::Api { code, status: 401 });
            }
        };
        let req = client
            .http
            .post(format!("{}/v1/staff/oidc/finish", client.base))
            .json(&OrganisationSignInFinish { handoff, app_verifier: verifier });
        let token: TokenResponse = client.send(req, 64 * 1024).await?;
        Ok(Self { client, token: token.token, username: String::new() })
    }

    fn credentials_checked(server_url: &str, username: &str, password: &str) -> Result<(Client, String)> {
        let username = cjg_core::validate::single_line("username", username, 100)?;
        if password.is_empty() || password.len() > 1024 {
            return Err(ClientError::Api { code: cjg_core::ErrorCode::Unauthenticated, status: 401 });
        }
        Ok((Client::new(server_url)?, username))
    }

    /// The first step of setting up the second factor: the secret, and the QR code that holds
    /// it for the authenticator app.
    pub async fn setup_second_factor(
        server_url: &str,
        username: &str,
        password: &str,
        setup_code: &str,
    ) -> Result<SecondFactorSetupView> {
        let (client, username) = Self::credentials_checked(server_url, username, password)?;
        let setup_code = checked_setup_code(setup_code)?;
        let req = client
            .http
            .post(format!("{}/v1/staff/second-factor/setup", client.base))
            .json(&SecondFactorSetupRequest { username, password: password.to_owned(), setup_code });
        let setup: SecondFactorSetup = client.send(req, 64 * 1024).await?;
        let (qr_size, qr_path) = qr_path(&setup.otpauth_uri)
            .ok_or_else(|| ClientError::InvalidResponse("the setup link does not fit a QR code".into()))?;
        Ok(SecondFactorSetupView { secret: setup.secret, qr_size, qr_path })
    }

    /// The second step: the first code from the app confirms the setup and signs in. The
    /// recovery codes are shown this once.
    pub async fn confirm_second_factor(
        server_url: &str,
        username: &str,
        password: &str,
        setup_code: &str,
        code: &str,
    ) -> Result<(Self, Vec<String>)> {
        let (client, username) = Self::credentials_checked(server_url, username, password)?;
        let setup_code = checked_setup_code(setup_code)?;
        let code = checked_code(code)?;
        let req = client.http.post(format!("{}/v1/staff/second-factor/confirm", client.base)).json(
            &SecondFactorConfirm {
                username: username.clone(),
                password: password.to_owned(),
                setup_code,
                code,
            },
        );
        let done: SecondFactorConfirmed = client.send(req, 64 * 1024).await?;
        Ok((Self { client, token: done.token, username }, done.recovery_codes))
    }

    /// Ends the token on the server, so a copy of it (in memory, in a crash dump) is worth
    /// nothing from now on. For a sign-in at the organisation: where the browser ends the
    /// session there too.
    pub async fn logout(&self) -> Result<Option<String>> {
        let req =
            self.client.http.post(format!("{}/v1/staff/logout", self.client.base)).bearer_auth(&self.token);
        let out: StaffSignedOut = self.client.send(req, 64 * 1024).await?;
        Ok(out.end_session_url)
    }

    pub async fn caseload(&self) -> Result<Vec<CaseloadDossier>> {
        let req =
            self.client.http.get(format!("{}/v1/staff/dossiers", self.client.base)).bearer_auth(&self.token);
        self.client.send(req, 1024 * 1024).await
    }

    /// Answers a family member within the purpose window of their dossier.
    pub async fn send_message(&self, person_id: Uuid, text: &str) -> Result<Message> {
        let text = MessageDraft { id: Uuid::nil(), text: text.to_owned() }.validate()?.text;
        let req = self
            .client
            .http
            .post(format!("{}/v1/staff/people/{person_id}/messages", self.client.base))
            .bearer_auth(&self.token)
            .json(&StaffMessageDraft { text });
        self.client.send(req, 64 * 1024).await
    }

    /// States the purpose, then reads the dossier's entries and its log under it.
    pub async fn open(&self, dossier_id: Uuid, purpose: Purpose, note: &str) -> Result<StaffDossierView> {
        let base = &self.client.base;
        let request = PurposeRequest { purpose, note: Some(note.to_owned()) };
        request.note()?;
        let req = self
            .client
            .http
            .put(format!("{base}/v1/staff/dossiers/{dossier_id}/purpose"))
            .bearer_auth(&self.token)
            .json(&request);
        let window: PurposeResponse = self.client.send(req, 64 * 1024).await?;
        let get = |what: &str| {
            self.client
                .http
                .get(format!("{base}/v1/staff/dossiers/{dossier_id}/{what}"))
                .bearer_auth(&self.token)
        };
        let all = |what: &str| format!("{base}/v1/staff/dossiers/{dossier_id}/{what}");
        let mut entries: Vec<Entry> =
            self.client.send_all_pages(&all("entries"), &self.token, SYNC_PAGE_MAX_BYTES).await?;
        // Pages are read by offset: an entry written between two pages can move one across the
        // boundary and arrive twice. The screen lists each entry once.
        let mut seen = std::collections::HashSet::new();
        entries.retain(|e| seen.insert(e.id));
        let people: Vec<Person> = self.client.send(get("people"), SYNC_PAGE_MAX_BYTES).await?;
        let tips: Vec<StaffTip> = self.client.send(get("tips"), SYNC_PAGE_MAX_BYTES).await?;
        let questionnaires: Vec<StaffQuestionnaire> =
            self.client.send(get("questionnaires"), SYNC_PAGE_MAX_BYTES).await?;
        let messages: Vec<Message> = self.client.send(get("messages"), SYNC_PAGE_MAX_BYTES).await?;
        let audit: Vec<AuditEvent> =
            self.client.send_all_pages(&all("audit"), &self.token, SYNC_PAGE_MAX_BYTES).await?;
        Ok(StaffDossierView {
            dossier_id,
            purpose: window.purpose,
            purpose_expires_at: window.expires_at,
            entries,
            people,
            tips,
            questionnaires,
            messages,
            audit,
        })
    }

    /// Sets a reading tip within the purpose window of the dossier; returns the dossier's tips.
    pub async fn create_tip(
        &self,
        dossier_id: Uuid,
        person_id: Uuid,
        article_id: Uuid,
        note: &str,
        show_at: ShowAt,
    ) -> Result<Vec<StaffTip>> {
        let draft = TipDraft { person_id, article_id, note: note.to_owned(), show_at }.validate()?;
        let url = format!("{}/v1/staff/dossiers/{dossier_id}/tips", self.client.base);
        let req = self.client.http.post(&url).bearer_auth(&self.token).json(&draft);
        let _: ReadingTip = self.client.send(req, 64 * 1024).await?;
        let req = self.client.http.get(&url).bearer_auth(&self.token);
        self.client.send(req, SYNC_PAGE_MAX_BYTES).await
    }

    /// The usage report of an ended month, quarter or half year (reporting roles only; the
    /// server refuses others and logs every pull).
    pub async fn usage_report(&self, period: &str) -> Result<cjg_core::usage::UsageReport> {
        let period = cjg_core::usage::UsagePeriod::parse(period).map_err(|_| {
            cjg_core::validate::ValidationError::Invalid {
                field: "period",
                reason: "a month, quarter or half year",
            }
        })?;
        let req = self
            .client
            .http
            .get(format!("{}/v1/staff/reports/usage", self.client.base))
            .query(&[("period", period.code())])
            .bearer_auth(&self.token);
        self.client.send(req, SYNC_PAGE_MAX_BYTES).await
    }

    /// Every article and revision, for authors and editors.
    pub async fn articles(&self) -> Result<Vec<StaffArticle>> {
        let req =
            self.client.http.get(format!("{}/v1/staff/articles", self.client.base)).bearer_auth(&self.token);
        self.client.send(req, SYNC_PAGE_MAX_BYTES).await
    }

    /// A new article (no id) or a new revision of one; families see it only once approved.
    pub async fn save_article(&self, id: Option<Uuid>, draft: ArticleDraft) -> Result<Vec<StaffArticle>> {
        let draft = draft.validate()?;
        let base = &self.client.base;
        let req = match id {
            Some(id) => self.client.http.put(format!("{base}/v1/staff/articles/{id}")),
            None => self.client.http.post(format!("{base}/v1/staff/articles")),
        };
        let _: Vec<StaffArticle> =
            self.client.send(req.bearer_auth(&self.token).json(&draft), 1024 * 1024).await?;
        self.articles().await
    }

    /// Approves the revision the editor read, named by the hash of the text they were shown
    /// ([`StaffArticle::text_hash`]). The server refuses one's own text, and any other text.
    pub async fn approve_article(
        &self,
        id: Uuid,
        revision: u32,
        text_hash: String,
    ) -> Result<Vec<StaffArticle>> {
        let req = self
            .client
            .http
            .post(format!("{}/v1/staff/articles/{id}/approve", self.client.base))
            .bearer_auth(&self.token)
            .json(&ApproveRequest { revision, text_hash });
        self.client.send_raw(req, 64 * 1024).await?;
        self.articles().await
    }

    pub async fn withdraw_article(&self, id: Uuid) -> Result<Vec<StaffArticle>> {
        let req = self
            .client
            .http
            .post(format!("{}/v1/staff/articles/{id}/withdraw", self.client.base))
            .bearer_auth(&self.token);
        self.client.send_raw(req, 64 * 1024).await?;
        self.articles().await
    }
}
