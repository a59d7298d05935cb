// Slides and code cells of a deck as the dialect's own tool reads them, as JSON on stdout:
//   node tests/agreement/slides.mjs slidev DECK  → {"starts": [1-based first line of each slide]}
//   node tests/agreement/slides.mjs myst DECK    → {"cells": [[code, slide label], ...], "count": N}
// Slidev: @slidev/parser's parse(). MyST: mystmd's `myst build --site` (its cells, their tags
// and the `+++` breaks' slideshow metadata), numbered as RISE numbers a notebook's slides.
// The modules are looked up from NODE_PATH or the current folder's node_modules.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const require = createRequire(join(process.cwd(), 'noop.js'))
const [dialect, deck] = process.argv.slice(2)
const text = readFileSync(deck, 'utf8')

if (dialect === 'slidev') {
  const { parse } = await import(require.resolve('@slidev/parser'))
  const data = await parse(text, deck)
  console.log(JSON.stringify({ starts: data.slides.map((slide) => slide.start + 1) }))
} else if (dialect === 'myst') {
  const folder = mkdtempSync(join(tmpdir(), 'myst-agreement-'))
  writeFileSync(join(folder, 'myst.yml'), 'version: 1\nproject:\n  title: agreement\nsite:\n  template: book-theme\n')
  writeFileSync(join(folder, 'page.md'), text)
  const myst = require.resolve('mystmd/dist/myst.cjs')
  try {
    execFileSync(process.execPath, [myst, 'build', '--site'], { cwd: folder, stdio: 'ignore' })
  } catch {
    // offline, mystmd writes the page's content and then fails to fetch the site's theme
  }
  const page = JSON.parse(readFileSync(join(folder, '_build/site/content/page.json'), 'utf8'))
  let h = 0, v = 0, first = true
  const cells = [], numbered = []
  for (const block of page.mdast.children) {
    const kind = block.data?.slideshow?.slide_type
    const code = block.children.find((node) => node.type === 'code' && block.kind === 'notebook-code')
    const empty = !code && block.children.length === 0
    if (!empty) {
      if (first) { h = 1; v = 0; first = false }
      else if (kind === 'slide') { h += 1; v = 0 }
      else if (kind === 'subslide') { v += 1 }
      numbered.push([h, v])
    }
    if (code) cells.push([code.value, h, v])
  }
  const stacked = new Set(numbered.filter(([, v]) => v > 0).map(([h]) => h))
  const label = (h, v) => (stacked.has(h) ? `${h}.${v + 1}` : `${h}`)
  console.log(JSON.stringify({
    cells: cells.map(([code, h, v]) => [code, label(h, v)]),
    count: new Set(numbered.map(([h, v]) => `${h}.${v}`)).size,
  }))
} else {
  console.error(`unknown dialect ${dialect}`)
  process.exit(2)
}
