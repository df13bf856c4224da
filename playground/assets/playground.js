// Starts GraphiQL on the page served by the playground package. It is a
// file rather than an inline script so the page's Content-Security-Policy
// can forbid inline scripts.
//
// The schema comes from /graphql/schema.graphql (public SDL, built into a
// schema with the graphql-js that GraphiQL bundles), so the docs explorer,
// autocompletion and variable checks work without introspection, which
// needs a token by default. A "Sign in" panel registers or signs in
// through the API and fills the Headers editor with the access token; the
// tokens live in this page's memory only. A "Connect" panel says how other
// tools reach the API. Subscriptions run over a websocket to the same URL.
(function () {
  'use strict';
  var el = document.getElementById('graphiql');
  var endpoint = new URL(el.getAttribute('data-endpoint') || '/graphql', window.location.href).href;
  var schemaURL = endpoint + '/schema.graphql';
  // Subscriptions go over a websocket at the same URL (graphql-transport-ws).
  var socketURL = endpoint.replace(/^http/, 'ws');
  var h = React.createElement;
  var GR = GraphiQL.React;

  var defaultQuery = [
    '# Healthcare GraphQL playground',
    '#',
    '# Sign in with the person icon (left):',
    '# the Headers tab then holds your token.',
    '# Ctrl-Enter runs, Ctrl-Space completes,',
    '# the book icon opens the docs, the plug',
    '# icon says how other tools connect.',
    '# Subscriptions run live, e.g.',
    '#   subscription { mappingChanged {',
    '#     op mappingId mapping { status } } }',
    '',
    'query Patients($first: Int, $after: String) {',
    '  patients(first: $first, after: $after) {',
    '    totalCount',
    '    pageInfo { hasNextPage endCursor }',
    '    nodes { id fullName age bloodGroup city }',
    '  }',
    '}',
    ''
  ].join('\n');

  // The session of the Sign in panel: kept in memory, never stored.
  var session = { user: null, refresh: null, access: null };

  function call(query, variables, token) {
    var headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    return fetch(endpoint, { method: 'POST', headers: headers, body: JSON.stringify({ query: query, variables: variables }) })
      .then(function (r) { return r.json(); });
  }

  // problems turns GraphQL errors into lines: the message, then each
  // field of extensions.fields with its messages.
  function problems(errors) {
    var out = [];
    (errors || []).forEach(function (e) {
      var fields = e.extensions && e.extensions.fields;
      if (fields && Object.keys(fields).length) {
        Object.keys(fields).forEach(function (f) { out.push(f + ': ' + fields[f].join(' ')); });
      } else {
        out.push(e.message);
      }
    });
    return out;
  }

  var authFields = '{ user { id name email } tokens { access refresh } }';
  var LOGIN = 'mutation Login($input: LoginInput!) { login(input: $input) ' + authFields + ' }';
  var REGISTER = 'mutation Register($input: RegisterInput!) { register(input: $input) ' + authFields + ' }';
  var LOGOUT = 'mutation Logout($refresh: String!) { logout(refresh: $refresh) }';

  function field(label, type, value, onChange, autoComplete) {
    return h('label', { className: 'pg-field' }, label,
      h('input', { type: type, value: value, autoComplete: autoComplete, required: true,
        onChange: function (e) { onChange(e.target.value); } }));
  }

  function SignInPanel() {
    var state = GR.useHeadersEditorState();
    var setHeaders = state[1];
    var _mode = React.useState('login'), mode = _mode[0], setMode = _mode[1];
    var _name = React.useState(''), name = _name[0], setName = _name[1];
    var _email = React.useState(''), email = _email[0], setEmail = _email[1];
    var _pw = React.useState(''), password = _pw[0], setPassword = _pw[1];
    var _pw2 = React.useState(''), confirm = _pw2[0], setConfirm = _pw2[1];
    var _busy = React.useState(false), busy = _busy[0], setBusy = _busy[1];
    var _errs = React.useState([]), errs = _errs[0], setErrs = _errs[1];
    var _user = React.useState(session.user), user = _user[0], setUser = _user[1];

    function keep(tokens, who) {
      session.user = who;
      session.refresh = tokens ? tokens.refresh : null;
      session.access = tokens ? tokens.access : null;
      setUser(who);
      setHeaders(tokens ? JSON.stringify({ Authorization: 'Bearer ' + tokens.access }, null, 2) : '');
    }

    function submit(ev) {
      ev.preventDefault();
      setBusy(true);
      setErrs([]);
      var req = mode === 'login'
        ? call(LOGIN, { input: { email: email, password: password } })
        : call(REGISTER, { input: { name: name, email: email, password: password, passwordConfirm: confirm } });
      req.then(function (res) {
        var payload = res.data && (res.data.login || res.data.register);
        if (!payload) {
          setErrs(problems(res.errors));
          return;
        }
        setPassword('');
        setConfirm('');
        keep(payload.tokens, payload.user);
      }, function () {
        setErrs(['The server could not be reached.']);
      }).then(function () { setBusy(false); });
    }

    function signOut() {
      var refresh = session.refresh, access = session.access;
      keep(null, null);
      if (refresh) call(LOGOUT, { refresh: refresh }, access).catch(function () {});
    }

    if (user) {
      return h('div', { className: 'pg-panel' },
        h('div', { className: 'graphiql-doc-explorer-title' }, 'Signed in'),
        h('p', null, 'As ', h('strong', null, user.name), ' (' + user.email + '). The Headers tab holds your access token; every request from this page sends it.'),
        h('p', { className: 'pg-note' }, 'Access tokens last an hour by default: sign in again when requests answer UNAUTHENTICATED.'),
        h('button', { type: 'button', className: 'pg-button', onClick: signOut }, 'Sign out'));
    }
    var register = mode === 'register';
    return h('form', { className: 'pg-panel', onSubmit: submit },
      h('div', { className: 'graphiql-doc-explorer-title' }, register ? 'Create an account' : 'Sign in'),
      h('p', null, 'Your access token goes into the Headers tab below the editor, and stays in this page only.'),
      register ? field('Name', 'text', name, setName, 'name') : null,
      field('Email', 'email', email, setEmail, 'username'),
      field('Password', 'password', password, setPassword, register ? 'new-password' : 'current-password'),
      register ? field('Password again', 'password', confirm, setConfirm, 'new-password') : null,
      errs.length ? h('ul', { className: 'pg-errors', role: 'alert' }, errs.map(function (m, i) { return h('li', { key: i }, m); })) : null,
      h('button', { type: 'submit', className: 'pg-button', disabled: busy }, busy ? 'Please wait…' : (register ? 'Create account' : 'Sign in')),
      h('p', { className: 'pg-note' },
        register ? 'Have an account? ' : 'New here? ',
        h('button', { type: 'button', className: 'pg-link', onClick: function () { setErrs([]); setMode(register ? 'login' : 'register'); } },
          register ? 'Sign in' : 'Create an account')));
  }

  function code(text) { return h('code', null, text); }

  function ConnectPanel() {
    var sdl = schemaURL;
    var tools = [
      ['Any client', ['POST ', code(endpoint), ' with JSON {query, variables, operationName}, or GET for queries; header ', code('Authorization: Bearer <access token>'), '. Tokens come from the login or register mutation (or POST /api/auth/login/).']],
      ['Subscriptions', ['A websocket at ', code(socketURL), ' with the graphql-transport-ws protocol (the graphql-ws client); send ', code('{"Authorization": "Bearer <access token>"}'), ' as the connection_init payload. This page does, from the Headers tab.']],
      ['Schema (SDL)', ['Public, no token: ', code(sdl), '. Introspection needs a signed-in token unless the server allows it to everyone.']],
      ['Postman', ['New → GraphQL request, URL ', code(endpoint), '; Authorization tab → Bearer Token. The schema loads by introspection with that token, or import the SDL file.']],
      ['Insomnia', ['New GraphQL request to ', code(endpoint), '; Auth → Bearer Token. Schema fetching uses the request\'s auth.']],
      ['Apollo Sandbox', ['Connect to ', code(endpoint), ' and add the Authorization header in the connection settings (the server must list Sandbox\'s origin in CORS_ALLOWED_ORIGINS).']],
      ['get-graphql-schema', [code('npx get-graphql-schema ' + endpoint + ' -h "Authorization=Bearer <token>"')]],
      ['graphql-inspector', [code('npx graphql-inspector introspect ' + sdl), ' (a URL ending in .graphql is read as SDL: no token needed).']],
      ['Code generators', ['Point GraphQL Code Generator, Relay Compiler or gqlgen clients at ', code(sdl), ' or a downloaded copy.']]
    ];
    return h('div', { className: 'pg-panel' },
      h('div', { className: 'graphiql-doc-explorer-title' }, 'Connect other tools'),
      h('dl', { className: 'pg-tools' }, tools.map(function (t) {
        return [h('dt', { key: t[0] + 't' }, t[0]), h('dd', { key: t[0] + 'd' }, t[1])];
      })));
  }

  function icon(d) {
    return function () {
      return h('svg', { viewBox: '0 0 24 24', fill: 'none', stroke: 'currentColor', strokeWidth: 1.5, 'aria-hidden': 'true' },
        h('path', { d: d, strokeLinecap: 'round', strokeLinejoin: 'round' }));
    };
  }
  var plugins = [
    { title: 'Sign in', icon: icon('M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8Zm-7 8a7 7 0 0 1 14 0'), content: SignInPanel },
    { title: 'Connect', icon: icon('M9 7V3m6 4V3M6 7h12v4a6 6 0 0 1-12 0V7Zm6 10v4'), content: ConnectPanel }
  ];

  function render(schema, note) {
    var root = ReactDOM.createRoot(el);
    root.render(h(GraphiQL, {
      // A subscription opens a websocket with the graphql-ws client inside
      // the GraphiQL bundle; the Headers tab becomes its connection_init
      // payload, so the token there authenticates it.
      fetcher: GraphiQL.createFetcher({ url: endpoint, subscriptionUrl: socketURL }),
      schema: schema,
      defaultQuery: defaultQuery,
      variables: '{\n  "first": 5\n}',
      plugins: plugins,
      defaultEditorToolsVisibility: 'headers',
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false
    }, note ? h(GraphiQL.Footer, null, h('p', { className: 'pg-footnote' }, note)) : null));
  }

  fetch(schemaURL, { headers: { Accept: 'text/plain' } })
    .then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.text();
    })
    .then(function (sdl) { return GraphiQL.GraphQL.buildSchema(sdl); })
    .then(function (schema) { render(schema); }, function (err) {
      // Without the SDL GraphiQL falls back to introspection, which works
      // once a token is in the Headers tab.
      render(undefined, 'The schema could not be loaded from ' + schemaURL + ' (' + err.message + '); sign in to load it by introspection.');
    });
})();
