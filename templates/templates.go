// Package templates embeds the project templates, one folder each with a
// template.json describing it. Go will not embed a folder holding a go.mod
// (it would be a module of its own), so templates store it as
// go.mod.template; a file named X.template is copied into projects as X.
package templates

import "embed"

// FS holds every template folder.
//
//go:embed all:blank all:html all:node all:python all:express-api all:go all:react-dashboard all:nextjs-blog
var FS embed.FS
