// GitHub-style alerts (> [!NOTE], [!TIP], [!IMPORTANT], [!WARNING], [!CAUTION]) as styled callouts.
// A markdown-it plugin for the Marp engine: the blockquote gets classes and a title paragraph,
// and the literal marker is removed.

const KINDS = { note: 'Note', tip: 'Tip', important: 'Important', warning: 'Warning', caution: 'Caution' }
const MARKER = /^\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]\s*$/i

export function alerts(md) {
  md.core.ruler.after('inline', 'deckcheck_alerts', (state) => {
    const { tokens } = state
    for (let i = 0; i < tokens.length - 2; i += 1) {
      const [open, paragraph, inline] = [tokens[i], tokens[i + 1], tokens[i + 2]]
      if (open.type !== 'blockquote_open' || paragraph.type !== 'paragraph_open' || inline.type !== 'inline') continue
      const first = inline.children[0]
      const match = first && first.type === 'text' && MARKER.exec(first.content)
      if (!match) continue

      const kind = match[1].toLowerCase()
      open.attrJoin('class', `callout callout-${kind}`)
      const rest = inline.children.slice(1)
      while (rest.length && (rest[0].type === 'softbreak' || rest[0].type === 'hardbreak')) rest.shift()
      inline.children = rest

      const titleOpen = new state.Token('paragraph_open', 'p', 1)
      titleOpen.attrSet('class', 'callout-title')
      const title = new state.Token('inline', '', 0)
      const text = new state.Token('text', '', 0)
      text.content = KINDS[kind]
      title.children = [text]
      const titleClose = new state.Token('paragraph_close', 'p', -1)
      tokens.splice(i + 1, 0, titleOpen, title, titleClose)
      if (!rest.length) tokens.splice(i + 4, 3) // the marker was the whole paragraph
    }
  })
}
