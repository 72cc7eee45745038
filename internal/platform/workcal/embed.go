package workcal

import "embed"

// Locales is the package's message catalog: a message for every
// ProblemKind ("err.workcal." + kind) and for the year warnings
// ("workcal.warn.no_data", "workcal.warn.provisional"), in every language.
//
//go:embed locales/*.json
var Locales embed.FS
