#!/usr/bin/env node
// Local OpenID Connect provider emitting ProConnect-like claims, for integration tests.
//
// Built on panva/oidc-provider (pinned in package.json). Logins are non-interactive:
// the persona named by the `login_hint` authorization parameter is logged in and the
// requested scopes/claims are granted automatically, through oidc-provider's
// interaction API (interactionDetails / Grant / interactionFinished).
//
// Usage:
//   node provider.mjs [--config <file>] [--port <n>] [--host <addr>] [--exit-on-stdin-eof]
//   node provider.mjs <config-file> [<port>]
// Environment (used when the matching argument is absent):
//   OIDC_CONFIG  path of the JSON configuration file
//   OIDC_PORT    TCP port (0 = pick a free port), default 0
//   OIDC_HOST    bind address, default 127.0.0.1
//   OIDC_DEBUG   "1" logs every HTTP request and provider error on stderr
//
// Once ready, exactly one line is printed on stdout:
//   OIDC provider listening on http://127.0.0.1:<port>
// Everything else (warnings, logs) goes to stderr.

import { generateKeyPair, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { parseArgs, promisify } from 'node:util';

const generateKeyPairAsync = promisify(generateKeyPair);

// oidc-provider prints its NOTICEs with console.info (stdout). stdout is reserved for the
// readiness line, so route every console method to stderr.
for (const m of ['log', 'info', 'debug', 'warn']) console[m] = console.error; // eslint-disable-line no-console

// Key generation runs in the libuv thread pool while oidc-provider is being loaded.
const generatedKeys = Promise.all([
  generateKeyPairAsync('rsa', { modulusLength: 2048 }),
  generateKeyPairAsync('ec', { namedCurve: 'P-256' }),
]);
generatedKeys.catch(() => {});

const { default: Provider, interactionPolicy } = await import('oidc-provider');

// ---------------------------------------------------------------------------------------------
// ProConnect vocabulary
// ---------------------------------------------------------------------------------------------

// acr values documented by ProConnect (partenaires.proconnect.gouv.fr, repository
// proconnect-gouv/proconnect-espace-partenaires, pages niveaux-acr / niveaux-eidas /
// double_authentification / certification-dirigeant).
export const PROCONNECT_ACR_VALUES = [
  'eidas0',
  'eidas0-mfa',
  'eidas1',
  'eidas1-mfa',
  'eidas2',
  'eidas3',
  'https://proconnect.gouv.fr/assurance/self-asserted',
  'https://proconnect.gouv.fr/assurance/self-asserted-2fa',
  'https://proconnect.gouv.fr/assurance/consistency-checked',
  'https://proconnect.gouv.fr/assurance/consistency-checked-2fa',
  'https://proconnect.gouv.fr/assurance/certification-dirigeant',
];

// ProConnect scopes are named after the claim they release.
const PROCONNECT_CLAIMS = {
  // acr/amr/auth_time are mapped to `openid` so that they are always in the ID token
  // (they are only available to the ID token: the userinfo account claims never contain them).
  openid: ['sub', 'acr', 'amr', 'auth_time'],
  given_name: ['given_name'],
  usual_name: ['usual_name'],
  email: ['email'],
  uid: ['uid'],
  siret: ['siret'],
  idp_id: ['idp_id'],
  idp_acr: ['idp_acr'],
  organization_label: ['organization_label'],
  roles: ['roles'],
  phone: ['phone_number'],
  custom: ['custom'],
  // generic OIDC scope accepted as a convenience
  profile: ['given_name', 'usual_name'],
  // standalone claims (no scope of their own)
  acr: null,
  amr: null,
  auth_time: null,
  sid: null,
  iss: null,
};

// Persona fields that describe the authentication event, not the user.
const AUTHN_FIELDS = new Set(['acr', 'amr']);

// ---------------------------------------------------------------------------------------------
// Arguments / configuration
// ---------------------------------------------------------------------------------------------

function fail(message) {
  process.stderr.write(`provider.mjs: ${message}\n`);
  process.exit(2);
}

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    config: { type: 'string', short: 'c' },
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    'exit-on-stdin-eof': { type: 'boolean', default: false },
  },
});

const configPath = opts.config ?? positionals[0] ?? process.env.OIDC_CONFIG;
if (!configPath) fail('no configuration: pass --config <file>, a positional path, or set OIDC_CONFIG');

let config;
try {
  config = JSON.parse(readFileSync(configPath, 'utf8'));
} catch (err) {
  fail(`cannot read configuration ${configPath}: ${err.message}`);
}

const portRaw = opts.port ?? positionals[1] ?? process.env.OIDC_PORT ?? config.port ?? 0;
const port = Number(portRaw);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`invalid port ${portRaw}`);
const host = opts.host ?? process.env.OIDC_HOST ?? config.host ?? '127.0.0.1';
const debug = process.env.OIDC_DEBUG === '1';

const acrValues = config.acrValues ?? PROCONNECT_ACR_VALUES;
const claimsConfig = { ...PROCONNECT_CLAIMS, ...(config.claims ?? {}) };
const scopes = ['openid', ...Object.keys(claimsConfig).filter((k) => Array.isArray(claimsConfig[k]) && k !== 'openid')];
const enforceEssentialAcr = config.enforceEssentialAcr === true;

// personas: { key: { sub, given_name, ..., acr, amr } }
const personas = config.personas ?? {};
if (!Object.keys(personas).length) fail('configuration has no personas');
const personaBySub = new Map();
for (const [key, p] of Object.entries(personas)) {
  if (typeof p.sub !== 'string' || !p.sub) fail(`persona ${key}: "sub" (string) is required`);
  if (personaBySub.has(p.sub)) fail(`persona ${key}: duplicate sub ${p.sub}`);
  if (p.acr !== undefined && !acrValues.includes(p.acr)) {
    process.stderr.write(`provider.mjs: warning: persona ${key} acr ${p.acr} is not in acr_values_supported\n`);
  }
  personaBySub.set(p.sub, { key, ...p });
}

// login_hint -> persona: persona key first, then (ProConnect-style) e-mail address.
function personaForHint(hint) {
  if (hint === undefined || hint === null || hint === '') {
    return config.defaultPersona ? { key: config.defaultPersona, ...personas[config.defaultPersona] } : undefined;
  }
  if (Object.hasOwn(personas, hint)) return { key: hint, ...personas[hint] };
  const lower = String(hint).toLowerCase();
  for (const [key, p] of Object.entries(personas)) {
    if (typeof p.email === 'string' && p.email.toLowerCase() === lower) return { key, ...p };
  }
  return undefined;
}

const clients = (config.clients ?? []).map((c) => ({
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_post',
  id_token_signed_response_alg: 'RS256',
  userinfo_signed_response_alg: 'RS256',
  require_auth_time: true,
  ...c,
}));
if (!clients.length) fail('configuration has no clients');

// Signing keys: config.jwks (private JWKs, for stable keys across runs) or fresh RSA + P-256 keys.
async function generatedJwks() {
  const [{ privateKey: rsaKey }, { privateKey: ecKey }] = await generatedKeys;
  const rsa = rsaKey.export({ format: 'jwk' });
  const ec = ecKey.export({ format: 'jwk' });
  return {
    keys: [
      { ...rsa, kid: `rsa-${randomUUID()}`, use: 'sig', alg: 'RS256' },
      { ...ec, kid: `ec-${randomUUID()}`, use: 'sig', alg: 'ES256' },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Interaction policy
// ---------------------------------------------------------------------------------------------

const policy = interactionPolicy.base();
const loginPrompt = policy.get('login');
if (!enforceEssentialAcr) {
  // Lenient (default): always issue the persona's acr, even when the client asked for an
  // essential acr it does not satisfy. The relying party must check acr itself (as ProConnect
  // requires). Without removing these checks, an unsatisfiable request would loop on login.
  loginPrompt.checks.remove('essential_acrs');
  loginPrompt.checks.remove('essential_acr');
}
// A session for persona A must not answer an authorization request whose login_hint names
// persona B: require a (new) login in that case.
loginPrompt.checks.add(new interactionPolicy.Check(
  'login_hint_mismatch',
  'login_hint designates another persona than the current session',
  (ctx) => {
    const { oidc } = ctx;
    if (!oidc.session.accountId || !oidc.params.login_hint) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
    const persona = personaForHint(oidc.params.login_hint);
    if (persona && persona.sub !== oidc.session.accountId) return interactionPolicy.Check.REQUEST_PROMPT;
    return interactionPolicy.Check.NO_NEED_TO_PROMPT;
  },
));

// ---------------------------------------------------------------------------------------------
// Provider
// ---------------------------------------------------------------------------------------------

let provider; // assigned once the port is known (issuer depends on it)

async function handleInteraction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  if (debug) process.stderr.write(`[oidc] interaction ${details.uid}: prompt=${prompt.name} reasons=${prompt.reasons.join(',')} login_hint=${params.login_hint ?? ''} session=${session?.accountId ?? '-'} grantId=${details.grantId} details=${JSON.stringify(prompt.details)}\n`);

  if (prompt.name === 'login') {
    const persona = personaForHint(params.login_hint);
    if (!persona || !persona.sub) {
      return provider.interactionFinished(req, res, {
        error: 'access_denied',
        error_description: `unknown persona for login_hint=${JSON.stringify(params.login_hint ?? null)} (known: ${Object.keys(personas).join(', ')})`,
      }, { mergeWithLastSubmission: false });
    }

    if (enforceEssentialAcr) {
      const requested = params.claims ? JSON.parse(params.claims)?.id_token?.acr : undefined;
      const wanted = requested?.essential ? (requested.values ?? (requested.value ? [requested.value] : [])) : [];
      if (wanted.length && !wanted.includes(persona.acr)) {
        return provider.interactionFinished(req, res, {
          error: 'unmet_authentication_requirements',
          error_description: `persona ${persona.key} has acr ${persona.acr}, requested one of ${wanted.join(' ')}`,
        }, { mergeWithLastSubmission: false });
      }
    }

    // Switching persona inside an existing browser session: drop the old session here so that
    // the resume step does not answer with an auto-submitted (POST) logout form.
    if (session?.accountId && session.accountId !== persona.sub) {
      const old = await provider.Session.findByUid(session.uid);
      if (old) await old.destroy();
      delete details.session;
      await details.save(details.exp - Math.floor(Date.now() / 1000));
    }

    return provider.interactionFinished(req, res, {
      login: {
        accountId: persona.sub,
        acr: persona.acr,
        amr: persona.amr,
        remember: true,
      },
    }, { mergeWithLastSubmission: false });
  }

  if (prompt.name === 'consent') {
    const existing = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
    const grant = existing ?? new provider.Grant({ accountId: session.accountId, clientId: params.client_id });

    const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = prompt.details;
    if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
    if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
    if (missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    const grantId = await grant.save();

    return provider.interactionFinished(req, res, {
      consent: existing ? {} : { grantId },
    }, { mergeWithLastSubmission: true });
  }

  return provider.interactionFinished(req, res, {
    error: 'access_denied',
    error_description: `unsupported prompt ${prompt.name}`,
  }, { mergeWithLastSubmission: false });
}

const server = http.createServer((req, res) => {
  if (debug) {
    const started = Date.now();
    res.on('finish', () => {
      process.stderr.write(`[oidc] ${req.method} ${req.url} -> ${res.statusCode}${res.getHeader('location') ? ` Location: ${res.getHeader('location')}` : ''} (${Date.now() - started}ms)\n`);
    });
  }
  if (req.url.startsWith('/interaction/')) {
    if (req.method !== 'GET') {
      res.writeHead(405, { Allow: 'GET' }).end();
      return;
    }
    handleInteraction(req, res).catch((err) => {
      process.stderr.write(`[oidc] interaction error: ${err.stack || err}\n`);
      if (!res.headersSent) {
        res.writeHead(400, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: err.error || 'invalid_request', error_description: err.error_description || err.message }));
      }
    });
    return;
  }
  provider.callback()(req, res);
});

server.on('error', (err) => fail(`cannot listen on ${host}:${port}: ${err.message}`));

server.listen(port, host, async () => {
  const actualPort = server.address().port;
  const issuer = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;

  provider = new Provider(issuer, {
    clients,
    jwks: config.jwks ?? await generatedJwks(),
    cookies: {
      keys: config.cookieKeys ?? [randomBytes(32).toString('base64url')],
    },
    acrValues,
    claims: claimsConfig,
    scopes,
    // ProConnect returns the user claims in the ID token too.
    conformIdTokenClaims: false,
    // ProConnect's documented extra authorization parameters (accepted, ignored).
    extraParams: ['idp_hint', 'siret_hint'],
    pkce: { methods: ['S256'], required: () => true },
    responseTypes: ['code'],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'RS256',
    },
    clientAuthMethods: ['client_secret_post', 'client_secret_basic'],
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'ES256', 'HS256'],
      userinfoSigningAlgValues: ['RS256', 'ES256', 'HS256'],
    },
    findAccount: async (ctx, sub) => {
      const persona = personaBySub.get(sub);
      if (!persona) return undefined;
      return {
        accountId: sub,
        async claims() {
          const out = {};
          for (const [k, v] of Object.entries(persona)) {
            if (k !== 'key' && !AUTHN_FIELDS.has(k)) out[k] = v;
          }
          return out;
        },
      };
    },
    interactions: {
      policy,
      url: (ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true },
      userinfo: { enabled: true },
      jwtUserinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        // Minimal confirmation page: a test client extracts `xsrf` and POSTs the form.
        logoutSource: async (ctx, form) => {
          ctx.type = 'html';
          ctx.body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Logout</title></head><body>${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Logout</button></body></html>`;
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.type = 'text/plain';
          ctx.body = 'logged out';
        },
      },
      revocation: { enabled: true },
      // ProConnect has no PAR endpoint.
      pushedAuthorizationRequests: { enabled: false },
    },
    routes: {
      authorization: '/authorize',
      token: '/token',
      userinfo: '/userinfo',
      jwks: '/jwks',
      end_session: '/session/end',
      revocation: '/token/revocation',
    },
    ttl: {
      AccessToken: config.ttl?.AccessToken ?? 60 * 60,
      AuthorizationCode: config.ttl?.AuthorizationCode ?? 60,
      IdToken: config.ttl?.IdToken ?? 60 * 60,
      Interaction: config.ttl?.Interaction ?? 60 * 60,
      Session: config.ttl?.Session ?? 12 * 60 * 60,
      Grant: config.ttl?.Grant ?? 12 * 60 * 60,
    },
    renderError: async (ctx, out) => {
      ctx.type = 'json';
      ctx.body = out;
    },
  });

  // Make sid part of every ID token (ProConnect always sends it; oidc-provider only does so
  // when requested through `claims` or for back-channel-logout clients).
  provider.Client.prototype.includeSid = function includeSid() { return true; };

  if (debug) {
    for (const ev of ['server_error', 'authorization.error', 'grant.error', 'userinfo.error', 'end_session.error', 'introspection.error', 'revocation.error', 'jwks.error', 'discovery.error']) {
      provider.on(ev, (ctx, err) => process.stderr.write(`[oidc] ${ev}: ${err?.error ?? ''} ${err?.error_description ?? err?.message ?? ''}\n`));
    }
  } else {
    provider.on('server_error', (ctx, err) => process.stderr.write(`[oidc] server_error: ${err.stack || err}\n`));
  }

  process.stdout.write(`OIDC provider listening on ${issuer}\n`);
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
if (opts['exit-on-stdin-eof']) {
  process.stdin.on('end', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}
