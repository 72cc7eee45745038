package assess

import "embed"

// Templates are the module's pages.
//
//go:embed templates/*.html
var Templates embed.FS

// Locales is the module's message catalog.
//
//go:embed locales/*.json
var Locales embed.FS
