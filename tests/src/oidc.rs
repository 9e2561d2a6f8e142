//! A real OpenID Provider (`scripts/oidc-provider`: the certified npm `oidc-provider` package)
//! on loopback, a server configured to use it, and a browser that signs in on the provider's
//! own login page.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{bail, Context, Result};

use crate::{workspace_root, TestServer};

pub const CLIENT_ID: &str = "mijn-cjg";
const CLIENT_SECRET: &str = "alleen-voor-de-test-0f3c9a";

pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The provider process. Killed when dropped.
pub struct TestProvider {
    child: Child,
    pub issuer: String,
}

impl TestProvider {
    /// With `client_jwks_uri`, the client proves itself with `private_key_jwt` and the
    /// provider fetches its public key there; otherwise with the client secret.
    pub fn start(port: u16, redirect_uri: &str, client_jwks_uri: Option<&str>) -> Result<Self> {
        let mut command = Command::new(workspace_root().join("scripts/oidc-provider"));
        command.args(["--port", &port.to_string(), "--client-id", CLIENT_ID, "--redirect-uri", redirect_uri]);
        match client_jwks_uri {
            Some(uri) => command.args(["--client-jwks-uri", uri]),
            None => command.args(["--client-secret", CLIENT_SECRET]),
        };
        let mut child = command
            .stdout(Stdio::piped())
            // Its warnings and errors land in the test's output, shown when a test fails.
            .stderr(Stdio::inherit())
            .spawn()
            .context("start scripts/oidc-provider (node)")?;
        let stdout = child.stdout.take().context("the provider's output")?;
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        // It prints notes later too: a closed pipe would take it down mid-test.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let ready: serde_json::Value =
            serde_json::from_str(&line).with_context(|| format!("the provider did not start: {line:?}"))?;
        let issuer = ready["issuer"].as_str().context("issuer")?.to_owned();
        Ok(Self { child, issuer })
    }

    /// As an administrator at the organisation would: the account can no longer sign in, and
    /// its refresh tokens stop working.
    pub async fn disable(&self, login: &str) -> Result<()> {
        let r = reqwest::Client::new().post(format!("{}/test/disable/{login}", self.issuer)).send().await?;
        if !r.status().is_success() {
            bail!("disable {login}: {}", r.status());
        }
        Ok(())
    }

    /// As the organisation's directory would: `login` is now in these groups (seen in the ID
    /// tokens it issues from now on, refreshed ones too).
    pub async fn set_groups(&self, login: &str, groups: &[&str]) -> Result<()> {
        let r = reqwest::Client::new()
            .post(format!("{}/test/groups/{login}", self.issuer))
            .json(groups)
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("groups of {login}: {}", r.status());
        }
        Ok(())
    }
}

impl Drop for TestProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A demo server whose staff sign in at a test provider; `extra_config` goes into the
/// server's OpenID Connect configuration file.
pub struct OrganisationSetup {
    pub provider: TestProvider,
    pub server: TestServer,
    config: PathBuf,
    data: PathBuf,
    server_port: u16,
    credential: String,
    _dir: tempfile::TempDir,
}

/// How the server proves itself at the provider.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    Secret,
    /// `private_key_jwt` with a new EC P-256 key; the provider fetches the public key from the
    /// server's `/v1/staff/oidc/jwks`.
    PrivateKey,
}

pub fn start(extra_config: &str) -> Result<OrganisationSetup> {
    start_with(extra_config, ClientAuth::Secret)
}

pub fn start_with(extra_config: &str, auth: ClientAuth) -> Result<OrganisationSetup> {
    let dir = tempfile::tempdir()?;
    let server_port = free_port()?;
    let provider_port = free_port()?;
    let server = format!("http://127.0.0.1:{server_port}");
    let callback = format!("{server}/v1/staff/oidc/callback");
    let jwks_uri = format!("{server}/v1/staff/oidc/jwks");
    let provider = match auth {
        ClientAuth::Secret => TestProvider::start(provider_port, &callback, None)?,
        ClientAuth::PrivateKey => TestProvider::start(provider_port, &callback, Some(&jwks_uri))?,
    };
    let credential = match auth {
        ClientAuth::Secret => {
            let secret = dir.path().join("client-secret");
            std::fs::write(&secret, CLIENT_SECRET)?;
            format!("client_secret_file = \"{}\"", secret.display())
        }
        ClientAuth::PrivateKey => {
            let key = dir.path().join("oidc-key.pem");
            std::fs::write(&key, new_private_key_pem()?)?;
            format!("private_key_file = \"{}\"", key.display())
        }
    };
    let config = dir.path().join("oidc.toml");
    write_config(&config, &provider.issuer, &credential, &callback, extra_config)?;
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data)?;
    let server = start_server(&data, server_port, &config)?;
    Ok(OrganisationSetup { provider, server, config, data, server_port, credential, _dir: dir })
}

/// A new EC P-256 private key as PKCS#8 PEM, as `openssl genpkey` writes it.
fn new_private_key_pem() -> Result<String> {
    use base64::Engine;
    let rng = ring::rand::SystemRandom::new();
    let der = ring::signature::EcdsaKeyPair::generate_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &rng,
    )
    .map_err(|_| anyhow::anyhow!("key generation failed"))?;
    let body = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let lines: Vec<&str> =
        body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
    Ok(format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", lines.join("\n")))
}

fn start_server(data: &Path, port: u16, config: &Path) -> Result<TestServer> {
    let config = config.to_string_lossy();
    TestServer::start_in(data, &format!("127.0.0.1:{port}"), &["--oidc-config", &config])
}

fn write_config(
    config: &Path,
    issuer: &str,
    credential: &str,
    callback: &str,
    extra_config: &str,
) -> Result<()> {
    std::fs::write(
        config,
        format!(
            r#"issuer = "{issuer}"
client_id = "{CLIENT_ID}"
{credential}
redirect_url = "{callback}"
{extra_config}

[[roles]]
group = "cjg-gedragswetenschappers"
role = "gedragswetenschapper"

[[roles]]
group = "cjg-coaches"
role = "coach"

[[roles]]
group = "cjg-kwaliteit"
role = "kwaliteitsmedewerker"
"#,
        ),
    )?;
    Ok(())
}

impl OrganisationSetup {
    /// `cjg-server link-staff`, as the administrator links a built-in account to the person's
    /// account at the organisation. The command's error output when it refused.
    pub fn link(&self, username: &str, subject: &str) -> Result<(), String> {
        let out = self
            .server
            .cli()
            .arg("--oidc-config")
            .arg(&self.config)
            .args(["link-staff", "--username", username, "--subject", subject])
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// The server restarted on the same data and address with another configuration.
    pub fn restart(&mut self, extra_config: &str) -> Result<()> {
        self.server.stop();
        let callback = format!("http://127.0.0.1:{}/v1/staff/oidc/callback", self.server_port);
        write_config(&self.config, &self.provider.issuer, &self.credential, &callback, extra_config)?;
        self.server = start_server(&self.data, self.server_port, &self.config)?;
        Ok(())
    }
}

/// The secret an app keeps while it signs in, and the challenge it sends the server.
pub fn app_secret() -> (String, String) {
    let verifier = cjg_crypto::b64(&cjg_crypto::random_array::<32>().expect("random"));
    let challenge = cjg_crypto::b64(&cjg_crypto::sha256(verifier.as_bytes()));
    (verifier, challenge)
}

/// A browser with its cookies, as a person's browser keeps the session at the provider.
pub struct Browser {
    http: reqwest::Client,
}

impl Browser {
    pub fn new() -> Result<Self> {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { http })
    }

    /// From the provider's authorization URL through its login page (filled in with `login`
    /// and a password) until a redirect leads to an address that contains `stop_at`, which it
    /// returns without going there (the app's loopback address with the handoff or an error).
    pub async fn sign_in(&self, authorize_url: &str, login: &str, stop_at: &str) -> Result<String> {
        let mut url = reqwest::Url::parse(authorize_url)?;
        let mut form: Option<Vec<(&str, &str)>> = None;
        for _ in 0..20 {
            let resp = match form.take() {
                Some(fields) => self.http.post(url.clone()).form(&fields).send().await?,
                None => self.http.get(url.clone()).send().await?,
            };
            if resp.status().is_redirection() {
                let location =
                    resp.headers().get("location").context("a redirect without Location")?.to_str()?;
                let next = url.join(location)?;
                if next.as_str().contains(stop_at) {
                    return Ok(next.to_string());
                }
                url = next;
                continue;
            }
            let status = resp.status();
            let html = resp.text().await?;
            // The provider's login page: one form; its action is where the login goes.
            let Some(action) = attribute(&html, "action") else {
                bail!("{status} at {url} without a form: {html}");
            };
            if !html.contains("name=\"login\"") {
                bail!("{status} at {url}: not the login page: {html}");
            }
            url = url.join(&action)?;
            form = Some(vec![
                ("prompt", "login"),
                ("login", login),
                ("password", "wachtwoord-bij-de-organisatie"),
            ]);
        }
        bail!("the sign-in did not come to {stop_at}")
    }

    /// Signs out at the provider itself (its own sign-out page, confirmed), as a person does
    /// in another application of the organisation.
    pub async fn sign_out_at_provider(&self, issuer: &str) -> Result<()> {
        let page = self.http.get(format!("{issuer}/session/end")).send().await?.text().await?;
        let action = attribute(&page, "action").context("the sign-out page has no form")?;
        let xsrf = page
            .split("name=\"xsrf\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .context("the sign-out form has no xsrf")?
            .to_owned();
        let url = reqwest::Url::parse(issuer)?.join(&action)?;
        let resp = self.http.post(url).form(&[("xsrf", xsrf.as_str()), ("logout", "yes")]).send().await?;
        if !(resp.status().is_redirection() || resp.status().is_success()) {
            bail!("sign-out at the provider: {}", resp.status());
        }
        Ok(())
    }
}

fn attribute(html: &str, name: &str) -> Option<String> {
    let start = format!("{name}=\"");
    html.split(start.as_str()).nth(1).and_then(|rest| rest.split('"').next()).map(str::to_owned)
}

/// A new browser through the provider's login page (see [`Browser::sign_in`]).
pub async fn browser_sign_in(authorize_url: &str, login: &str, stop_at: &str) -> Result<String> {
    Browser::new()?.sign_in(authorize_url, login, stop_at).await
}
