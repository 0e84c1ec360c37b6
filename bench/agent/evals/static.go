package evals

// Static sites: files served as they are.
func staticCases() []Case {
	return []Case{
		{
			Name: "landing-page",
			Prompt: "Create a static landing page for a coffee shop called Bean There: a hero with the shop's name, " +
				"a Menu section listing at least three drinks with prices, and the Opening hours. Put the styles in style.css.",
			Checks: []Check{
				{Path: "/", Contains: []string{"Bean There", "Menu", "Opening hours", "style.css"}},
				{Path: "/style.css", Contains: []string{"{"}, Headers: map[string]string{"Content-Type": "text/css"}},
			},
			Files: []string{"index.html", "style.css"},
			Solution: Solution{
				Match: "coffee shop called bean there",
				Intro: "A static page with a stylesheet is all this needs; I'll serve it with Python's http.server.",
				Files: []File{{"index.html", landingHTML}, {"style.css", landingCSS}},
				Run:   staticServer, Check: "/",
				Summary:  "A static landing page for Bean There with its menu and opening hours.",
				Features: []string{"Hero with the shop's name", "Menu with prices", "Opening hours", "Styles in style.css"},
			},
		},
		{
			Name: "personal-site",
			Prompt: "Build a two-page static personal site for Ada Lovelace: index.html with a short bio and about.html with a Timeline " +
				"that includes 1843, the year she published her notes. Both pages share a nav bar linking to each other and one stylesheet.",
			Checks: []Check{
				{Path: "/", Contains: []string{"Ada Lovelace", "about.html"}},
				{Path: "/about.html", Contains: []string{"Timeline", "1843", "index.html"}},
			},
			Files: []string{"index.html", "about.html"},
			Solution: Solution{
				Match: "static personal site for ada lovelace",
				Intro: "Two HTML pages and a shared stylesheet.",
				Files: []File{
					{"index.html", sitePage("Home", "<p>Ada Lovelace (1815–1852) was a mathematician who wrote the first published algorithm for a machine.</p>")},
					{"about.html", sitePage("About", `<h2>Timeline</h2>
<ul>
  <li>1815: born in London</li>
  <li>1833: meets Charles Babbage</li>
  <li>1843: publishes her notes on the Analytical Engine</li>
</ul>`)},
					{"site.css", "body { font-family: Georgia, serif; max-width: 40rem; margin: 2rem auto; }\nnav a { margin-right: 1rem; }\n"},
				},
				Run: staticServer, Check: "/about.html",
				Summary:  "A two-page static site about Ada Lovelace.",
				Features: []string{"Bio on the home page", "Timeline on the about page", "Shared nav bar and stylesheet"},
			},
		},
	}
}

const landingHTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Bean There</title>
  <link rel="stylesheet" href="style.css">
</head>
<body>
  <header class="hero">
    <h1>Bean There</h1>
    <p>Coffee worth the detour.</p>
  </header>
  <section id="menu">
    <h2>Menu</h2>
    <ul>
      <li>Espresso <span>€2.20</span></li>
      <li>Flat white <span>€3.40</span></li>
      <li>Cold brew <span>€3.90</span></li>
    </ul>
  </section>
  <section id="hours">
    <h2>Opening hours</h2>
    <p>Monday to Friday 7:00–18:00, weekends 8:00–16:00.</p>
  </section>
</body>
</html>
`

const landingCSS = `body { font-family: system-ui, sans-serif; margin: 0; color: #2b1d12; }
.hero { background: #6f4e37; color: #fff; padding: 4rem 1rem; text-align: center; }
section { max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
li span { float: right; }
`

// sitePage is one page of the personal site, with the shared nav.
func sitePage(title, body string) string {
	return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>` + title + ` · Ada Lovelace</title><link rel="stylesheet" href="site.css"></head>
<body>
<nav><a href="index.html">Home</a><a href="about.html">About</a></nav>
<h1>Ada Lovelace</h1>
` + body + `
</body>
</html>
`
}
