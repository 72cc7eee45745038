// Package web holds the layout, the shared pages, and the static files
// (CSS, JavaScript, and later the vendored map and chart libraries), embedded
// into the binary so that Linli needs no CDN on a closed network.
package web

import (
	"embed"
	"io/fs"
)

// Templates holds templates/*.html: layout.html, partials named _*.html,
// and the shared pages.
//
//go:embed templates/*.html
var Templates embed.FS

//go:embed static
var static embed.FS

// Static returns the static files, rooted at static/.
func Static() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the directory is embedded above
	}
	return sub
}
