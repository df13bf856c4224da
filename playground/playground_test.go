package playground_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"healthcare/playground"
)

func serve(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/graphql", playground.Handler("Healthcare GraphQL", "/graphql"))
	mux.Handle("/graphql/assets/", http.StripPrefix("/graphql/assets", playground.Assets()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestPage(t *testing.T) {
	srv := serve(t)
	resp, body := get(t, srv.URL+"/graphql")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.Contains(body, "<title>Healthcare GraphQL</title>") || !strings.Contains(body, `data-endpoint="/graphql"`) {
		t.Fatal(body)
	}
	if strings.Contains(body, "//") && regexp.MustCompile(`(?:src|href)="(?:https?:)?//`).MatchString(body) {
		t.Fatalf("page loads from elsewhere:\n%s", body)
	}
	refs := regexp.MustCompile(`(?:src|href)="(/graphql/assets/[^"]+)"`).FindAllStringSubmatch(body, -1)
	if len(refs) != 6 {
		t.Fatalf("want 6 assets, got %v", refs)
	}
	for _, m := range refs {
		u := strings.ReplaceAll(m[1], "&amp;", "&")
		resp, b := get(t, srv.URL+u)
		if resp.StatusCode != 200 || len(b) == 0 {
			t.Fatalf("%s: %d", u, resp.StatusCode)
		}
		ct := resp.Header.Get("Content-Type")
		if (strings.HasSuffix(strings.SplitN(u, "?", 2)[0], ".js") && !strings.Contains(ct, "javascript")) ||
			(strings.Contains(u, ".css") && !strings.HasPrefix(ct, "text/css")) {
			t.Fatalf("%s: content type %s", u, ct)
		}
		if !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
			t.Fatalf("%s: Cache-Control %q", u, resp.Header.Get("Cache-Control"))
		}
		if len(b) > 2<<20 {
			t.Fatalf("%s is over 2 MiB", u)
		}
	}
	resp, _ = get(t, srv.URL+"/graphql/assets/")
	if resp.StatusCode != 404 {
		t.Fatalf("directory listing: %d", resp.StatusCode)
	}
	resp, _ = get(t, srv.URL+"/graphql/assets/nope.js")
	if resp.StatusCode != 404 {
		t.Fatalf("missing file: %d", resp.StatusCode)
	}
}
