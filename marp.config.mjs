// marp-cli configuration for the lecture decks; deckcheck's build and plain `npx marp` both use it.
import { alerts } from './marp/alerts.mjs'
import { mathLabels } from './marp/math_labels.mjs'

export default {
  themeSet: ['./themes'],
  allowLocalFiles: true,
  // the pages' language when a deck's front matter has no `lang:` (else the locale, "C" in CI)
  lang: 'en',
  options: {
    math: { lib: 'mathjax', katexFontPath: 'assets/katex/' },
    // Unicode emoji stay text: twemoji images would come from a CDN, and the site works offline.
    emoji: { shortcode: false, unicode: false },
  },
  engine: ({ marp }) => marp.use(alerts).use(mathLabels),
}
