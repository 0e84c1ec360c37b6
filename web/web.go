// Package web embeds the built front end. `npm run build` in this folder
// writes it to dist/app; without that build the server still compiles and
// serves a page that says how to build the UI.
package web

import "embed"

// Dist holds dist/app (when built) and a placeholder that keeps the
// embed pattern valid before the first build.
//
//go:embed all:dist
var Dist embed.FS
