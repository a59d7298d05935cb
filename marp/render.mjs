// Render every deck of a folder with one marp-cli process (one shared browser for the PDFs).
// Usage: node marp/render.mjs CONFIG DIR FORMAT...
//   html     DIR/NAME.html, the presentation (bespoke template)
//   pdf      DIR/NAME.pdf, with the speaker notes and an outline
//   measure  DIR/.measure/NAME.html, every slide laid out at once (bare template), for the fit
//            check, the accessibility audit and the handout
//   notes    DIR/.notes/NAME.json, each slide's speaker notes as marp-core renders them:
//            a list per slide of its comments that are not directives
import { marpCli } from '@marp-team/marp-cli'
import { Marp } from '@marp-team/marp-core'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { pathToFileURL } from 'node:url'

const [config, dir, ...formats] = process.argv.slice(2)
const options = {
  html: ['--output', dir],
  pdf: ['--output', dir, '--pdf', '--pdf-notes', '--pdf-outlines'],
  measure: ['--output', `${dir}/.measure`, '--template', 'bare'],
}

async function writeNotes() {
  const settings = (await import(pathToFileURL(config).href)).default
  mkdirSync(join(dir, '.notes'), { recursive: true })
  for (const name of readdirSync(dir).filter((file) => file.endsWith('.md'))) {
    const marp = new Marp(settings.options)
    const engine = settings.engine ? settings.engine({ marp }) || marp : marp
    const { comments } = engine.render(readFileSync(join(dir, name), 'utf-8'))
    writeFileSync(join(dir, '.notes', `${basename(name, '.md')}.json`), JSON.stringify(comments))
  }
}

for (const format of formats) {
  if (format === 'notes') {
    await writeNotes()
    continue
  }
  const status = await marpCli(['--config-file', config, '--input-dir', dir, ...options[format]])
  if (status !== 0) process.exit(status)
}
