// Run by .ci/graphql-audit with NODE_PATH at graphql-http and graphql.
//
//   node .ci/graphql-audit.cjs http://127.0.0.1:8080
//
// 1. Registers a fresh user through the API and keeps its access token.
// 2. Runs graphql-http's serverAudits against /graphql with that token
//    (the default introspection policy wants one), prints every result,
//    and requires all 61 to pass with no warning and no error.
// 3. Loads /graphql/schema.graphql (no token; by GET and by POST, as
//    graphql-inspector fetches it) with graphql-js's
//    buildSchema and the introspection answer with buildClientSchema, and
//    requires the two to print the same, with the same directives.
'use strict';
const { serverAudits } = require('graphql-http');
const { buildSchema, buildClientSchema, getIntrospectionQuery, printSchema, lexicographicSortSchema } = require('graphql');

const base = process.argv[2];
if (!base) {
  console.error('usage: node graphql-audit.cjs <base url>');
  process.exit(2);
}
const url = base + '/graphql';
const EXPECTED = 61;

async function gql(query, variables, token) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  if (token) headers.authorization = 'Bearer ' + token;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return res.json();
}

async function main() {
  let failed = false;
  const fail = (msg) => { console.log('FAIL ' + msg); failed = true; };

  const email = `audit-${Date.now()}@example.com`;
  const reg = await gql('mutation($in: RegisterInput!) { register(input: $in) { tokens { access } } }',
    { in: { name: 'Conformance Check', email, password: 'Quiet-Harbor-4821', passwordConfirm: 'Quiet-Harbor-4821' } });
  const token = reg.data && reg.data.register.tokens.access;
  if (!token) throw new Error('register failed: ' + JSON.stringify(reg));

  // The audit, signed in: its own fetch adds the token to every request.
  const fetchFn = (input, init = {}) => fetch(input, { ...init, headers: { ...(init.headers || {}), authorization: 'Bearer ' + token } });
  const results = await Promise.all(serverAudits({ url, fetchFn }).map((a) => a.fn()));
  const count = { ok: 0, notice: 0, warn: 0, error: 0 };
  for (const r of results) {
    count[r.status]++;
    console.log(`${r.status.padEnd(5)} ${r.id} ${r.name}${r.status === 'ok' ? '' : ' -- ' + r.reason}`);
  }
  console.log(`graphql-http audit: ${count.ok} passed, ${count.notice} notices, ${count.warn} warnings, ${count.error} errors (of ${results.length})`);
  if (results.length !== EXPECTED || count.ok !== EXPECTED) fail(`the audit must give ${EXPECTED} passed, 0 warnings, 0 errors`);

  // Anonymous introspection stays closed by default; the SDL is public.
  const anon = await gql('{ __schema { queryType { name } } }');
  const code = anon.errors && anon.errors[0].extensions && anon.errors[0].extensions.code;
  if (anon.data || code !== 'UNAUTHENTICATED') fail('anonymous introspection answered ' + JSON.stringify(anon));
  else console.log('ok    anonymous introspection is refused (UNAUTHENTICATED)');

  const sdlRes = await fetch(base + '/graphql/schema.graphql');
  if (!sdlRes.ok) throw new Error('GET /graphql/schema.graphql: ' + sdlRes.status);
  const sdl = await sdlRes.text();
  // graphql-inspector (@graphql-tools/url-loader) fetches a .graphql URL by POST.
  const posted = await fetch(base + '/graphql/schema.graphql', { method: 'POST' });
  if (!posted.ok || (await posted.text()) !== sdl) fail('POST /graphql/schema.graphql does not answer the SDL: ' + posted.status);
  const fromSDL = buildSchema(sdl);
  const intro = await gql(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, inputValueDeprecation: true }), undefined, token);
  if (intro.errors) throw new Error('introspection with a token: ' + JSON.stringify(intro.errors));
  const fromIntro = buildClientSchema(intro.data);
  const names = (s) => s.getDirectives().map((d) => d.name).sort().join(' ');
  if (names(fromSDL) !== names(fromIntro)) fail(`directives differ: SDL [${names(fromSDL)}], introspection [${names(fromIntro)}]`);
  const a = printSchema(lexicographicSortSchema(fromSDL));
  const b = printSchema(lexicographicSortSchema(fromIntro));
  if (a !== b) {
    const la = a.split('\n'), lb = b.split('\n');
    const i = la.findIndex((l, n) => l !== lb[n]);
    fail(`SDL and introspection differ at line ${i + 1}:\n  SDL:           ${la[i]}\n  introspection: ${lb[i]}`);
  } else {
    console.log(`ok    /graphql/schema.graphql equals introspection in graphql-js (${a.split('\n').length} lines; directives ${names(fromSDL)})`);
  }
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error('graphql-audit: ' + (e.stack || e)); process.exit(1); });
