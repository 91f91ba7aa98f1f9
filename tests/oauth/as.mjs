// The OAuth 2.1 / OpenID authorization server of the OAuth tests: npm oidc-provider on loopback, headless.
// RFC 9068 JWT access tokens (or opaque ones: ACCESS_TOKEN_FORMAT=opaque) whose `aud` is the requested resource
// (any http://127.0.0.1:<port>/mcp), PKCE S256 required, open dynamic registration, introspection, revocation,
// refresh tokens. Login and consent need no form: the account is the `login_hint` (default alice), and every
// requested scope is granted. Environment:
//   AS_JWK                the private signing key (a JWK, JSON), so tests can also sign tokens of their own
//   ACCESS_TOKEN_FORMAT   jwt (default) | opaque
//   RS_SECRET             the secret of client `imini-rs` (introspection), default rs-secret
//   WEB_SECRET / WEB_REDIRECTS   client `imini-web` (the key page's sign-in): its secret, redirect URIs (comma)
//   ACCESS_TOKEN_TTL      seconds, default 600
// Prints "AS ready <issuer>" once listening (on a free port).
import http from 'node:http';
import { generateKeyPair, exportJWK } from 'jose';
import Provider, { errors } from 'oidc-provider';

const SCOPES = 'video:read video:generate';
const RESOURCE = /^http:\/\/127\.0\.0\.1:\d+\/mcp$/;
const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const ISSUER = `http://127.0.0.1:${server.address().port}`;
const jwk = process.env.AS_JWK
  ? JSON.parse(process.env.AS_JWK)
  : await exportJWK((await generateKeyPair('RS256', { extractable: true })).privateKey);

const webRedirects = (process.env.WEB_REDIRECTS || 'http://127.0.0.1:1/connect/callback').split(',');
const provider = new Provider(ISSUER, {
  jwks: { keys: [{ kid: 'test-rs256', alg: 'RS256', use: 'sig', ...jwk }] },
  clients: [
    { client_id: 'imini-rs', client_secret: process.env.RS_SECRET || 'rs-secret', redirect_uris: [],
      grant_types: [], response_types: [] },
    { client_id: 'imini-web', client_secret: process.env.WEB_SECRET || 'web-secret', redirect_uris: webRedirects,
      grant_types: ['authorization_code'], response_types: ['code'] },
  ],
  findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  scopes: ['openid', 'offline_access', 'video:read', 'video:generate'],
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, indicator) => {
        if (!RESOURCE.test(indicator)) throw new errors.InvalidTarget();
        return {
          scope: SCOPES, audience: indicator, accessTokenTTL: Number(process.env.ACCESS_TOKEN_TTL || 600),
          accessTokenFormat: process.env.ACCESS_TOKEN_FORMAT || 'jwt', jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['test-cookie-key'] },
});

async function interaction(req, res) { // no HTML, no forms
  const details = await provider.interactionDetails(req, res);
  const { prompt, params } = details;
  if (prompt.name === 'login') {
    const login = { accountId: params.login_hint || 'alice' };
    return provider.interactionFinished(req, res, { login }, { mergeWithLastSubmission: false });
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes || {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  const consent = details.grantId ? {} : { grantId };
  return provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
}

const callback = provider.callback();
server.on('request', (req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((e) => { res.statusCode = 500; res.end(String(e)); });
  } else {
    callback(req, res);
  }
});
console.log(`AS ready ${ISSUER}`);
