// Starts GraphiQL on the page served by the playground package. It is a
// file rather than an inline script so the page's Content-Security-Policy
// can forbid inline scripts.
(function () {
  'use strict';
  var el = document.getElementById('graphiql');
  var endpoint = new URL(el.getAttribute('data-endpoint') || '/graphql', window.location.href).href;
  var defaultQuery = [
    '# Healthcare GraphQL playground',
    '#',
    '# Get a token with the login mutation',
    '# (or POST /api/auth/login/), then paste it',
    '# in the Headers tab below:',
    '#   {"Authorization": "Bearer <token>"}',
    '#',
    '# Ctrl-Enter runs the query. Ctrl-Space',
    '# completes. The book icon opens the docs.',
    '',
    '{',
    '  __typename',
    '}',
    ''
  ].join('\n');
  var fetcher = GraphiQL.createFetcher({ url: endpoint });
  var root = ReactDOM.createRoot(el);
  root.render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: defaultQuery,
    defaultEditorToolsVisibility: 'headers',
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false
  }));
})();
