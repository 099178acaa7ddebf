#!/usr/bin/env node
// End-to-end self test of provider.mjs, using only Node built-ins (fetch, crypto).
// It spawns the provider on a random port, then performs exactly what a relying party
// (and the Rust integration tests) must do, printing every HTTP exchange.
//
//   node selftest.mjs [config.json]      (default: ./config.example.json)
//   SELFTEST_ISSUER=http://127.0.0.1:PORT node selftest.mjs [config.json]   (use a running provider)
//
// Exits 0 when every check passes, 1 otherwise.

import { spawn } from 'node:child_process';
import {
  createHash, createHmac, createPublicKey, randomBytes, timingSafeEqual, verify as cryptoVerify,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const configPath = resolve(process.argv[2] ?? join(here, 'config.example.json'));
const config = JSON.parse(readFileSync(configPath, 'utf8'));
const quiet = process.env.SELFTEST_QUIET === '1';
const log = (...a) => { if (!quiet) console.log(...a); };

let failures = 0;
function check(cond, label, extra) {
  if (cond) log(`  ok   ${label}`);
  else { failures += 1; console.log(`  FAIL ${label}${extra !== undefined ? ` :: ${JSON.stringify(extra)}` : ''}`); }
  return cond;
}
function must(cond, label, extra) {
  if (!check(cond, label, extra)) throw new Error(`fatal: ${label}`);
}

// ------------------------------------------------------------------ provider process
async function startProvider() {
  if (process.env.SELFTEST_ISSUER) return { issuer: process.env.SELFTEST_ISSUER, stop() {} };
  const t0 = Date.now();
  const child = spawn(process.execPath, [join(here, 'provider.mjs'), '--config', configPath, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr.on('data', (d) => { if (process.env.SELFTEST_SHOW_STDERR === '1') process.stderr.write(d); });
  const rl = createInterface({ input: child.stdout });
  const issuer = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error('provider did not start within 10s')), 10_000);
    rl.on('line', (line) => {
      const m = /^OIDC provider listening on (http:\/\/\S+)$/.exec(line);
      if (m) { clearTimeout(timer); res(m[1]); }
    });
    child.on('exit', (code) => { clearTimeout(timer); rej(new Error(`provider exited early (${code})`)); });
  });
  log(`provider started in ${Date.now() - t0} ms: ${issuer}`);
  return { issuer, stop() { child.kill('SIGTERM'); } };
}

// ------------------------------------------------------------------ tiny cookie jar (RFC 6265 path matching)
class CookieJar {
  constructor() { this.cookies = new Map(); } // key name|path -> {name,value,path}
  store(url, response) {
    for (const sc of response.headers.getSetCookie()) {
      const [pair, ...attrs] = sc.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let expired = false;
      for (const a of attrs) {
        const [k, v = ''] = a.split('=');
        if (k.toLowerCase() === 'path') path = v;
        if (k.toLowerCase() === 'expires' && Date.parse(v) <= Date.now()) expired = true;
        if (k.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
      }
      const key = `${name}|${path}`;
      if (expired || value === '') this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path });
    }
  }
  header(url) {
    const { pathname } = new URL(url);
    const matching = [...this.cookies.values()].filter((c) => pathname === c.path
      || (pathname.startsWith(c.path) && (c.path.endsWith('/') || pathname[c.path.length] === '/')));
    return matching.length ? matching.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }
  names(url) {
    const h = this.header(url);
    return h ? h.split('; ').map((kv) => kv.split('=')[0]) : [];
  }
}

async function http(jar, method, url, { headers = {}, body } = {}) {
  const cookie = jar?.header(url);
  const res = await fetch(url, {
    method,
    redirect: 'manual',
    headers: { ...headers, ...(cookie ? { cookie } : {}) },
    body,
  });
  jar?.store(url, res);
  return res;
}

// Follows 302/303 with GET until the Location starts with `stopPrefix`; returns that Location.
async function followUntil(jar, startUrl, stopPrefix, trace) {
  let url = startUrl;
  for (let i = 0; i < 20; i += 1) {
    const sent = jar.names(url);
    const res = await http(jar, 'GET', url);
    const location = res.headers.get('location');
    const setNames = res.headers.getSetCookie().map((c) => c.split('=')[0] + (/path=([^;]+)/i.exec(c) ? ` (path=${/path=([^;]+)/i.exec(c)[1]})` : ''));
    trace.push({ method: 'GET', url, status: res.status, location, cookiesSent: sent, setCookies: setNames });
    if (!location) {
      const text = await res.text();
      throw new Error(`no redirect from ${url}: ${res.status} ${text.slice(0, 300)}`);
    }
    await res.arrayBuffer().catch(() => {});
    const next = new URL(location, url).href;
    if (next.startsWith(stopPrefix)) return next;
    url = next;
  }
  throw new Error('too many redirects');
}

function printTrace(trace) {
  for (const t of trace) {
    log(`    ${t.method} ${t.url}`);
    log(`      -> ${t.status}${t.location ? ` Location: ${t.location}` : ''}`);
    if (t.cookiesSent.length) log(`      cookies sent: ${t.cookiesSent.join(', ')}`);
    if (t.setCookies.length) log(`      set-cookie:   ${t.setCookies.join(', ')}`);
  }
}

// ------------------------------------------------------------------ JWT helpers
const b64u = (buf) => Buffer.from(buf).toString('base64url');
function decodeJwt(jwt) {
  const [h, p, s] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url')),
    payload: JSON.parse(Buffer.from(p, 'base64url')),
    signingInput: `${h}.${p}`,
    signature: Buffer.from(s, 'base64url'),
  };
}
function verifyJwt(jwt, jwks, { alg, issuer, audience, clientSecret }) {
  const d = decodeJwt(jwt);
  if (d.header.alg !== alg) throw new Error(`alg ${d.header.alg} != ${alg}`);
  let ok;
  if (alg === 'HS256') {
    const mac = createHmac('sha256', clientSecret).update(d.signingInput).digest();
    ok = mac.length === d.signature.length && timingSafeEqual(mac, d.signature);
  } else {
    const jwk = jwks.keys.find((k) => k.kid === d.header.kid);
    if (!jwk) throw new Error(`kid ${d.header.kid} not in JWKS`);
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    ok = alg === 'RS256'
      ? cryptoVerify('sha256', Buffer.from(d.signingInput), key, d.signature)
      : cryptoVerify('sha256', Buffer.from(d.signingInput), { key, dsaEncoding: 'ieee-p1363' }, d.signature);
  }
  if (!ok) throw new Error('bad signature');
  const now = Math.floor(Date.now() / 1000);
  if (d.payload.iss !== issuer) throw new Error(`iss ${d.payload.iss}`);
  if (d.payload.aud !== audience && !(Array.isArray(d.payload.aud) && d.payload.aud.includes(audience))) throw new Error(`aud ${d.payload.aud}`);
  if (d.payload.exp !== undefined && d.payload.exp < now) throw new Error('expired');
  return d;
}

function pkce() {
  const verifier = b64u(randomBytes(32));
  const challenge = b64u(createHash('sha256').update(verifier).digest());
  return { verifier, challenge };
}

const PROCONNECT_SCOPE = 'openid given_name usual_name email uid siret idp_id organization_label roles';
const USER_CLAIMS = ['sub', 'given_name', 'usual_name', 'email', 'uid', 'siret', 'idp_id', 'organization_label', 'roles'];

function authorizeUrl(disco, client, { persona, state, nonce, challenge, claims, acrValues, extra = {} }) {
  const u = new URL(disco.authorization_endpoint);
  const p = {
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: client.redirect_uris[0],
    scope: PROCONNECT_SCOPE,
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    login_hint: persona,
    ...(claims ? { claims: JSON.stringify(claims) } : {}),
    ...(acrValues ? { acr_values: acrValues } : {}),
    ...extra,
  };
  for (const [k, v] of Object.entries(p)) if (v !== undefined) u.searchParams.set(k, v);
  return u.href;
}

async function tokenRequest(disco, client, { code, verifier }) {
  const form = new URLSearchParams({
    grant_type: 'authorization_code',
    code,
    redirect_uri: client.redirect_uris[0],
    code_verifier: verifier,
  });
  const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  const method = client.token_endpoint_auth_method ?? 'client_secret_post';
  if (method === 'client_secret_basic') {
    const enc = (s) => encodeURIComponent(s); // RFC 6749 §2.3.1: form-urlencode then base64
    headers.authorization = `Basic ${Buffer.from(`${enc(client.client_id)}:${enc(client.client_secret)}`).toString('base64')}`;
  } else {
    form.set('client_id', client.client_id);
    form.set('client_secret', client.client_secret);
  }
  const res = await http(null, 'POST', disco.token_endpoint, { headers, body: form.toString() });
  return { status: res.status, contentType: res.headers.get('content-type'), body: await res.json() };
}

// One complete login: authorize -> redirects -> code -> token -> userinfo, with checks.
async function fullLogin({ disco, jwks, jar, client, personaKey, claims, acrValues, expectInteraction = true, title }) {
  log(`\n== ${title}`);
  const persona = config.personas[personaKey];
  const state = b64u(randomBytes(24));
  const nonce = b64u(randomBytes(24));
  const { verifier, challenge } = pkce();
  const start = authorizeUrl(disco, client, { persona: personaKey, state, nonce, challenge, claims, acrValues });
  const trace = [];
  const callback = await followUntil(jar, start, client.redirect_uris[0], trace);
  printTrace(trace);
  log(`    => callback: ${callback}`);
  check(trace.some((t) => t.url.includes('/interaction/')) === expectInteraction, `interaction ${expectInteraction ? 'performed' : 'skipped (existing session + grant)'}`);

  const cb = new URL(callback);
  const code = cb.searchParams.get('code');
  must(code, 'callback has code', cb.search);
  check(cb.searchParams.get('state') === state, 'state echoed');
  check(cb.searchParams.get('iss') === disco.issuer, 'iss in authorization response (RFC 9207)');

  const tok = await tokenRequest(disco, client, { code, verifier });
  log(`    POST ${disco.token_endpoint} (${client.token_endpoint_auth_method}) -> ${tok.status} ${tok.contentType}`);
  log(`      token response keys: ${Object.keys(tok.body).join(', ')}`);
  must(tok.status === 200, 'token endpoint 200', tok.body);
  check(tok.body.token_type === 'Bearer', 'token_type Bearer');

  const alg = client.id_token_signed_response_alg ?? 'RS256';
  const idt = verifyJwt(tok.body.id_token, jwks, { alg, issuer: disco.issuer, audience: client.client_id, clientSecret: client.client_secret });
  log(`      id_token header: ${JSON.stringify(idt.header)}`);
  log(`      id_token payload: ${JSON.stringify(idt.payload)}`);
  check(true, `id_token signature ${alg} verified with JWKS`);
  check(idt.payload.nonce === nonce, 'id_token nonce');
  check(idt.payload.acr === persona.acr, `id_token acr = ${persona.acr}`);
  check(JSON.stringify(idt.payload.amr) === JSON.stringify(persona.amr), `id_token amr = ${JSON.stringify(persona.amr)}`);
  check(typeof idt.payload.auth_time === 'number', 'id_token auth_time');
  check(typeof idt.payload.sid === 'string', 'id_token sid');
  if (idt.payload.at_hash !== undefined) { // optional in the code flow; oidc-provider 8.x sends it
    const h = createHash('sha256').update(tok.body.access_token).digest();
    check(idt.payload.at_hash === b64u(h.subarray(0, h.length / 2)), 'id_token at_hash matches access_token');
  }
  for (const c of USER_CLAIMS) check(JSON.stringify(idt.payload[c]) === JSON.stringify(persona[c]), `id_token ${c}`, idt.payload[c]);

  const ui = await http(null, 'GET', disco.userinfo_endpoint, { headers: { authorization: `Bearer ${tok.body.access_token}` } });
  const uiCt = ui.headers.get('content-type');
  const uiBody = await ui.text();
  log(`    GET ${disco.userinfo_endpoint} (Authorization: Bearer …) -> ${ui.status} ${uiCt}`);
  must(ui.status === 200, 'userinfo 200', uiBody);
  check(/^application\/jwt/.test(uiCt), 'userinfo content-type application/jwt', uiCt);
  const uij = verifyJwt(uiBody, jwks, { alg: client.userinfo_signed_response_alg ?? 'RS256', issuer: disco.issuer, audience: client.client_id, clientSecret: client.client_secret });
  log(`      userinfo header: ${JSON.stringify(uij.header)}`);
  log(`      userinfo payload: ${JSON.stringify(uij.payload)}`);
  check(true, 'userinfo JWT signature verified with JWKS');
  for (const c of USER_CLAIMS) check(JSON.stringify(uij.payload[c]) === JSON.stringify(persona[c]), `userinfo ${c}`, uij.payload[c]);

  return { idToken: tok.body.id_token, code, verifier, accessToken: tok.body.access_token, idt };
}

// ------------------------------------------------------------------ main
async function main() {
  const prov = await startProvider();
  const t0 = Date.now();
  try {
    const { issuer } = prov;
    const [postClient, basicClient = postClient] = config.clients;
    const personaKeys = Object.keys(config.personas);

    log('\n== discovery');
    const dres = await http(null, 'GET', `${issuer}/.well-known/openid-configuration`);
    const disco = await dres.json();
    log(`    GET ${issuer}/.well-known/openid-configuration -> ${dres.status}`);
    must(dres.status === 200, 'discovery 200');
    check(disco.issuer === issuer, 'issuer');
    check(disco.code_challenge_methods_supported?.includes('S256'), 'S256 supported');
    check(disco.claims_parameter_supported === true, 'claims parameter supported');
    check(disco.acr_values_supported?.includes('https://proconnect.gouv.fr/assurance/certification-dirigeant'), 'acr values');
    check(disco.userinfo_signing_alg_values_supported?.includes('RS256'), 'signed userinfo');
    for (const k of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'end_session_endpoint']) log(`      ${k}: ${disco[k]}`);

    const jres = await http(null, 'GET', disco.jwks_uri);
    const jwks = await jres.json();
    log(`    GET ${disco.jwks_uri} -> ${jres.status}: ${jwks.keys.map((k) => `${k.kty}/${k.alg}/${k.kid}`).join(', ')}`);
    check(jwks.keys.every((k) => !k.d), 'JWKS exposes public keys only');

    const acrClaims = (values) => ({ id_token: { acr: { essential: true, values }, amr: { essential: true } } });

    // 1. officer, client_secret_post + RS256, acr via claims parameter
    const jar = new CookieJar();
    const first = await fullLogin({
      disco, jwks, jar, client: postClient, personaKey: personaKeys[0],
      claims: acrClaims(['https://proconnect.gouv.fr/assurance/certification-dirigeant']),
      title: `login ${personaKeys[0]} / ${postClient.client_id} (${postClient.token_endpoint_auth_method}, ${postClient.id_token_signed_response_alg})`,
    });

    // 2. SSO: same jar, same persona, same client -> no interaction at all
    await fullLogin({
      disco, jwks, jar, client: postClient, personaKey: personaKeys[0], expectInteraction: false,
      title: `SSO: ${personaKeys[0]} again with the same cookie jar`,
    });

    // Replaying a code is refused, and (RFC 6749 §4.1.2) revokes the grant it came from:
    // the next authorization for this client/persona will need consent again.
    log('\n== negative: authorization code replay');
    const replay = await tokenRequest(disco, postClient, { code: first.code, verifier: first.verifier });
    check(replay.status === 400 && replay.body.error === 'invalid_grant', 'replayed code -> 400 invalid_grant', replay.body);

    // 3. persona switch in the same jar, other client (client_secret_basic + ES256), acr via acr_values
    if (personaKeys[2]) {
      await fullLogin({
        disco, jwks, jar, client: basicClient, personaKey: personaKeys[2],
        acrValues: config.personas[personaKeys[2]].acr,
        title: `login ${personaKeys[2]} / ${basicClient.client_id} (${basicClient.token_endpoint_auth_method}, ${basicClient.id_token_signed_response_alg}), same cookie jar`,
      });
    }

    // 4. essential acr the persona cannot satisfy
    if (personaKeys[1] && config.enforceEssentialAcr !== true) {
      // lenient (default): the persona's own acr is returned, the RP must reject it itself
      await fullLogin({
        disco, jwks, jar: new CookieJar(), client: postClient, personaKey: personaKeys[1],
        claims: acrClaims(['eidas3']),
        title: `essential acr eidas3 requested for ${personaKeys[1]} (enforceEssentialAcr=false: persona acr returned)`,
      });
    } else if (personaKeys[1]) {
      log(`\n== essential acr eidas3 requested for ${personaKeys[1]} (enforceEssentialAcr=true)`);
      const trace = [];
      const cb = new URL(await followUntil(new CookieJar(), authorizeUrl(disco, postClient, {
        persona: personaKeys[1], state: 's'.repeat(32), nonce: 'n'.repeat(32), challenge: pkce().challenge, claims: acrClaims(['eidas3']),
      }), postClient.redirect_uris[0], trace));
      printTrace(trace);
      check(cb.searchParams.get('error') === 'unmet_authentication_requirements', 'error=unmet_authentication_requirements', cb.search);
    }

    log('\n== negative: missing PKCE, unknown login_hint, wrong code_verifier');
    {
      const u = new URL(authorizeUrl(disco, postClient, { persona: personaKeys[0], state: 's'.repeat(32), nonce: 'n'.repeat(32), challenge: 'x' }));
      u.searchParams.delete('code_challenge'); u.searchParams.delete('code_challenge_method');
      const r = await http(new CookieJar(), 'GET', u.href);
      const loc = new URL(r.headers.get('location'));
      log(`    GET (no code_challenge) -> ${r.status} Location: ${loc.href}`);
      check(r.status === 303 && loc.searchParams.get('error') === 'invalid_request', 'authorization without PKCE rejected', loc.search);
    }
    {
      const trace = [];
      const cb = await followUntil(new CookieJar(), authorizeUrl(disco, postClient, { persona: 'nobody', state: 's'.repeat(32), nonce: 'n'.repeat(32), challenge: pkce().challenge }), postClient.redirect_uris[0], trace);
      const u = new URL(cb);
      log(`    unknown login_hint -> ${cb}`);
      check(u.searchParams.get('error') === 'access_denied', 'unknown persona -> error=access_denied');
    }
    {
      const { challenge } = pkce();
      const trace = [];
      const cb = await followUntil(new CookieJar(), authorizeUrl(disco, postClient, { persona: personaKeys[0], state: 's'.repeat(32), nonce: 'n'.repeat(32), challenge }), postClient.redirect_uris[0], trace);
      const r = await tokenRequest(disco, postClient, { code: new URL(cb).searchParams.get('code'), verifier: pkce().verifier });
      check(r.status === 400 && r.body.error === 'invalid_grant', 'wrong code_verifier -> invalid_grant', r.body);
    }

    // 5. RP-initiated logout (end_session_endpoint), ProConnect style
    if (postClient.post_logout_redirect_uris?.length) {
      log('\n== logout (end_session_endpoint)');
      const ljar = new CookieJar();
      const login = await fullLogin({ disco, jwks, jar: ljar, client: postClient, personaKey: personaKeys[0], title: 'login before logout' });
      const state = b64u(randomBytes(24));
      const u = new URL(disco.end_session_endpoint);
      u.searchParams.set('id_token_hint', login.idToken);
      u.searchParams.set('state', state);
      u.searchParams.set('post_logout_redirect_uri', postClient.post_logout_redirect_uris[0]);
      const r1 = await http(ljar, 'GET', u.href);
      const html = await r1.text();
      const action = /action="([^"]+)"/.exec(html)?.[1];
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
      log(`    GET ${disco.end_session_endpoint}?id_token_hint=…&state=…&post_logout_redirect_uri=… -> ${r1.status} ${r1.headers.get('content-type')} (form action=${action}, xsrf=${xsrf ? 'present' : 'missing'})`);
      must(r1.status === 200 && action && xsrf, 'logout confirmation form');
      const actionUrl = new URL(action, disco.end_session_endpoint).href;
      const sent = ljar.names(actionUrl);
      const r2 = await http(ljar, 'POST', actionUrl, {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ xsrf, logout: 'yes' }).toString(),
      });
      const loc = r2.headers.get('location');
      log(`    POST ${actionUrl} (xsrf=…&logout=yes; cookies sent: ${sent.join(', ')}) -> ${r2.status} Location: ${loc}`);
      check(r2.status === 303 && loc?.startsWith(postClient.post_logout_redirect_uris[0]) && new URL(loc).searchParams.get('state') === state, 'redirected to post_logout_redirect_uri with state');
      // after logout a new authorization request needs a login interaction again
      const trace = [];
      await followUntil(ljar, authorizeUrl(disco, postClient, { persona: personaKeys[0], state: 's'.repeat(32), nonce: 'n'.repeat(32), challenge: pkce().challenge }), postClient.redirect_uris[0], trace);
      check(trace.some((t) => t.url.includes('/interaction/')), 'session gone after logout (login interaction again)');
    }
  } finally {
    prov.stop();
  }
  log(`\nchecks done in ${Date.now() - t0} ms`);
  if (failures) { console.log(`${failures} check(s) FAILED`); process.exit(1); }
  console.log('selftest: all checks passed');
  process.exit(0);
}

main().catch((err) => { console.log(`selftest: ERROR ${err.stack || err}`); process.exit(1); });
