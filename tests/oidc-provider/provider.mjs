// A real OpenID Provider on loopback for the staff sign-in tests: the certified `oidc-provider`
// package with its own login page, authorization code flow with PKCE, refresh tokens, and
// RP-initiated logout. The accounts are invented. Never for production: the login page takes
// any password (it is the package's development login), and the keys live in memory.
//
// node provider.mjs --port P --client-id ID (--client-secret S | --client-jwks-uri URL)
//                   --redirect-uri URL [--post-logout-redirect-uri URL] [--id-token-seconds N]
// With --client-jwks-uri the client authenticates with private_key_jwt: a signed assertion,
// checked against the public keys the provider fetches from that address.
// Prints one line of JSON when it listens: {"issuer": "http://127.0.0.1:P"}.
// POST /test/disable/<login> disables an account, as an administrator would at the
// organisation: its refresh tokens stop working. POST /test/groups/<login> with a JSON list
// of names puts the account in those groups (seen in ID tokens issued from then on).
import crypto from "node:crypto";
import http from "node:http";
import Provider from "oidc-provider";

function arg(name, fallback) {
  if (fallback === null) {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : null;
  }
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (fallback === undefined) {
    console.error(`missing --${name}`);
    process.exit(2);
  }
  return fallback;
}

const port = Number(arg("port"));
const issuer = `http://127.0.0.1:${port}`;
const idTokenSeconds = Number(arg("id-token-seconds", "300"));

// Invented staff of an invented CJG. `groups` is what the organisation's directory says.
// The first three have the usernames of the demo's own staff: an administrator links them
// (`cjg-server link-staff`); a matching name alone does not.
const ACCOUNTS = {
  coach: { name: "Fleur Demo", groups: ["cjg-coaches", "iedereen"] },
  gedrag: { name: "Gert Demo", groups: ["cjg-gedragswetenschappers"] },
  kwaliteit: { name: "Kees Demo", groups: ["cjg-kwaliteit"] },
  "bas.nogroep": { name: "Bas Zondergroep", groups: ["cjg-receptie"] },
};
const disabled = new Set();

const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: "jwk" }), kid: crypto.randomUUID(), alg: "RS256", use: "sig" };

const jwksUri = arg("client-jwks-uri", null);
const credential = jwksUri
  ? { token_endpoint_auth_method: "private_key_jwt", jwks_uri: jwksUri, token_endpoint_auth_signing_alg: "ES256" }
  : { token_endpoint_auth_method: "client_secret_basic", client_secret: arg("client-secret") };
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: arg("client-id"),
      redirect_uris: [arg("redirect-uri")],
      post_logout_redirect_uris: [arg("post-logout-redirect-uri", arg("redirect-uri"))],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      ...credential,
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString("hex")] },
  pkce: { required: () => true, methods: ["S256"] },
  // The organisation's own directory: a first-party application, no consent screen.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope("openid profile groups");
    await grant.save();
    return grant;
  },
  // Refresh tokens also without offline_access, as Keycloak gives them: they end with the
  // session at the provider (expiresWithSession), which is what lets Mijn CJG notice a sign-out.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed("refresh_token"),
  scopes: ["openid", "profile", "groups", "offline_access"],
  claims: { openid: ["sub"], profile: ["name", "preferred_username"], groups: ["groups"] },
  // The claims in the ID token itself, as Entra ID and Keycloak do with a groups claim.
  conformIdTokenClaims: false,
  ttl: { IdToken: idTokenSeconds, AccessToken: idTokenSeconds, RefreshToken: 24 * 3600, Session: 24 * 3600, Grant: 24 * 3600 },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true }, revocation: { enabled: true } },
  async findAccount(_ctx, id) {
    const account = ACCOUNTS[id];
    if (!account || disabled.has(id)) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, name: account.name, preferred_username: id, groups: account.groups };
      },
    };
  },
});
provider.on("server_error", (_ctx, err) => console.error("server_error", err));

const handle = provider.callback();
const server = http.createServer((req, res) => {
  const disable = req.method === "POST" && req.url?.match(/^\/test\/disable\/([a-z.]+)$/);
  if (disable) {
    disabled.add(disable[1]);
    res.writeHead(204).end();
    return;
  }
  const groups = req.method === "POST" && req.url?.match(/^\/test\/groups\/([a-z.]+)$/);
  if (groups && ACCOUNTS[groups[1]]) {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      ACCOUNTS[groups[1]].groups = JSON.parse(body);
      res.writeHead(204).end();
    });
    return;
  }
  handle(req, res);
});
server.listen(port, "127.0.0.1", () => {
  console.log(JSON.stringify({ issuer }));
});
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => server.close(() => process.exit(0)));
