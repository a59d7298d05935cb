// Render every deck of a folder with one marp-cli process (one shared browser for the PDFs).
// Usage: node marp/render.mjs MARP_CLI CONFIG THEMES DIR FORMAT...
//   MARP_CLI  marp-cli's package folder, or - for the `marp` on PATH (as under npx)
//   THEMES    a theme folder that replaces the config's themeSet, or -
//   html      DIR/NAME.html, the presentation (bespoke template)
//   pdf       DIR/NAME.pdf, with the speaker notes and an outline
//   pptx      DIR/NAME.pptx, a PowerPoint file of the slides (as images) with the speaker notes
//   measure   DIR/.measure/NAME.html, every slide laid out at once (bare template), for the fit
//             check, the accessibility audit and the handout
//   notes     DIR/.notes/NAME.json, each slide's speaker notes as marp-core renders them:
//             a list per slide of its comments that are not directives
//   katex     DIR/assets/katex: KaTeX's fonts, for decks with `math: katex`
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const [marpFolder, config, themes, dir, ...formats] = process.argv.slice(2)

function marpOnPath() {
  for (const folder of (process.env.PATH || '').split(path.delimiter)) {
    const candidate = path.join(folder, 'marp')
    if (folder && existsSync(candidate)) return path.dirname(realpathSync(candidate))
  }
  console.error('ERROR: no marp-cli found (no marp on PATH)')
  process.exit(1)
}

const home = marpFolder === '-' ? marpOnPath() : marpFolder
const require = createRequire(path.join(home, 'package.json'))
const { marpCli } = require(home)
const themeSet = themes === '-' ? [] : ['--theme-set', themes]
const options = {
  html: ['--output', dir],
  pdf: ['--output', dir, '--pdf', '--pdf-notes', '--pdf-outlines'],
  pptx: ['--output', dir, '--pptx'],
  measure: ['--output', `${dir}/.measure`, '--template', 'bare'],
}

async function writeNotes() {
  const { Marp } = require('@marp-team/marp-core')
  const settings = (await import(pathToFileURL(config).href)).default
  mkdirSync(path.join(dir, '.notes'), { recursive: true })
  for (const name of readdirSync(dir).filter((file) => file.endsWith('.md'))) {
    const marp = new Marp(settings.options)
    const engine = settings.engine ? settings.engine({ marp }) || marp : marp
    const { comments } = engine.render(readFileSync(path.join(dir, name), 'utf-8'))
    writeFileSync(path.join(dir, '.notes', `${path.basename(name, '.md')}.json`), JSON.stringify(comments))
  }
}

for (const format of formats) {
  if (format === 'katex') {
    const katex = path.dirname(require.resolve('katex/package.json'))
    cpSync(path.join(katex, 'dist', 'fonts'), path.join(dir, 'assets', 'katex'), { recursive: true })
    continue
  }
  if (format === 'notes') {
    await writeNotes()
    continue
  }
  const status = await marpCli(['--config-file', config, ...themeSet, '--input-dir', dir, ...options[format]])
  if (status !== 0) process.exit(status)
}
