// Package templates embeds the project templates, one folder each with a
// template.json describing it.
package templates

import "embed"

// FS holds every template folder.
//
//go:embed all:blank all:html all:node all:python
var FS embed.FS
