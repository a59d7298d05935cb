// marp-cli configuration for the lecture decks; deckcheck's build and plain `npx marp` both use it.
import { alerts } from './marp/alerts.mjs'
import { mathLabels } from './marp/math_labels.mjs'

export default {
  themeSet: ['./themes'],
  allowLocalFiles: true,
  // the pages' language when a deck's front matter has no `lang:` (else the locale, "C" in CI)
  lang: 'en',
  options: {
    // A line break in a paragraph or bullet is a space, as in CommonMark (marp-core turns it
    // into <br> by default): the source can wrap long bullets without breaking them on the slide.
    markdown: { breaks: false },
    math: { lib: 'mathjax', katexFontPath: 'assets/katex/' },
    // Unicode emoji stay text: twemoji images would come from a CDN, and the site works offline.
    emoji: { shortcode: false, unicode: false },
  },
  engine: ({ marp }) => marp.use(alerts).use(mathLabels),
}
