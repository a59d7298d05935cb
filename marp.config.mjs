// marp-cli configuration for the lecture decks; deckcheck's build and plain `npx marp` both use it.
import { alerts } from './marp/alerts.mjs'

export default {
  themeSet: ['./themes'],
  allowLocalFiles: true,
  options: {
    math: { lib: 'mathjax', katexFontPath: 'assets/katex/' },
    // Unicode emoji stay text: twemoji images would come from a CDN, and the site works offline.
    emoji: { shortcode: false, unicode: false },
  },
  engine: ({ marp }) => marp.use(alerts),
}
