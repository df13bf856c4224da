// Package playground serves the GraphiQL page for /graphql and its assets.
// Every script and style sheet is embedded in the binary and served under
// /graphql/assets/, so the playground works on a network with no internet
// access: the page loads nothing from a CDN.
//
// The files in assets/ come from the npm registry: graphiql@3.8.3
// (graphiql.min.js re-minified with esbuild, since the package ships it
// unminified at 3.4 MB; graphiql.min.css likewise, without its source map
// comment), react@18.3.1 and react-dom@18.3.1 (umd/*.production.min.js,
// unchanged). Their licenses are in assets/LICENSES.txt. To upgrade, see
// assets/README.md.
package playground

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"healthcare/models"
	"healthcare/web"
)

//go:embed assets
var assetsFS embed.FS

// files is the assets folder as served: paths like "graphiql.min.js".
var files, _ = fs.Sub(assetsFS, "assets")

// version is a hash of every embedded asset, appended to their URLs so a
// new binary's assets are never taken from a browser's cache of old ones,
// while unchanged ones can be cached for long.
var version = func() string {
	h := sha256.New()
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		h.Write([]byte(p))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}()

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}</title>
<link rel="stylesheet" href="{{.Assets}}/graphiql.min.css?v={{.Version}}">
<link rel="stylesheet" href="{{.Assets}}/playground.css?v={{.Version}}">
</head>
<body>
<noscript><p class="pg-noscript">The GraphQL playground needs JavaScript. The schema is at <a href="{{.Endpoint}}/schema.graphql">{{.Endpoint}}/schema.graphql</a>.</p></noscript>
<div id="graphiql" data-endpoint="{{.Endpoint}}" data-title="{{.Title}}"><p class="pg-loading">Loading the playground…</p></div>
<script src="{{.Assets}}/react.production.min.js?v={{.Version}}"></script>
<script src="{{.Assets}}/react-dom.production.min.js?v={{.Version}}"></script>
<script src="{{.Assets}}/graphiql.min.js?v={{.Version}}"></script>
<script src="{{.Assets}}/playground.js?v={{.Version}}"></script>
</body>
</html>
`))

// Handler serves the playground page for the GraphQL endpoint (a path such
// as "/graphql"). The page loads its files from endpoint + "/assets", where
// the router mounts Assets, and the schema from endpoint +
// "/schema.graphql" (so it needs no introspection). Its Sign in panel puts
// the access token in GraphiQL's headers editor, as {"Authorization":
// "Bearer …"}, which is sent with every request.
func Handler(title, endpoint string) http.Handler {
	endpoint = strings.TrimRight(endpoint, "/")
	data := struct{ Title, Endpoint, Assets, Version string }{title, endpoint, endpoint + "/assets", version}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		web.SetHeaders(w, r, Policy(r))
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		if err := page.Execute(w, data); err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
	})
}

// Policy is the page's Content-Security-Policy. Everything comes from this
// server: GraphiQL sets inline styles and its editor (CodeMirror) needs
// them; its fonts are data: URLs. It talks to this origin only, by HTTP
// and by websocket (subscriptions): connect-src names the websocket origin
// as the client reached the server (models.RequestInfo, which honours
// TRUST_PROXY and PUBLIC_URL), since not every browser lets 'self' match
// ws: and wss:.
func Policy(r *http.Request) string {
	connect := []string{"'self'"}
	if info := models.RequestInfoFrom(r.Context()); info.Host != "" {
		scheme := "ws://"
		if info.Secure() {
			scheme = "wss://"
		}
		connect = append(connect, scheme+info.Host)
	}
	return web.CSP{
		DefaultSrc: []string{"'self'"}, ScriptSrc: []string{"'self'"}, StyleSrc: []string{"'self'", "'unsafe-inline'"},
		ImgSrc: []string{"'self'", "data:"}, FontSrc: []string{"'self'", "data:"}, ConnectSrc: connect,
		FormAction: []string{"'none'"},
	}.String()
}

// Assets serves the playground's embedded files, to be mounted with the
// prefix stripped: a request for "/graphiql.min.js" gets that file. A
// request with the current ?v= version is cached for a year.
func Assets() http.Handler {
	fsrv := http.FileServer(http.FS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if name == "" || name == "." || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		if _, err := fs.Stat(files, name); err != nil {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		if r.URL.Query().Get("v") == version {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		fsrv.ServeHTTP(w, r)
	})
}
