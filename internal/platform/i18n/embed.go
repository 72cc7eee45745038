package i18n

import "embed"

// Platform is the catalog of the platform and the web shell.
//
//go:embed locales/*.json
var Platform embed.FS
