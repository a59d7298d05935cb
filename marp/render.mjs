// Render every deck of a folder with one marp-cli process (one shared browser for the PDFs).
// Usage: node marp/render.mjs CONFIG DIR FORMAT...
//   html     DIR/NAME.html, the presentation (bespoke template)
//   pdf      DIR/NAME.pdf, with the speaker notes and an outline
//   measure  DIR/.measure/NAME.html, every slide laid out at once (bare template), for the fit check
import { marpCli } from '@marp-team/marp-cli'

const [config, dir, ...formats] = process.argv.slice(2)
const options = {
  html: ['--output', dir],
  pdf: ['--output', dir, '--pdf', '--pdf-notes', '--pdf-outlines'],
  measure: ['--output', `${dir}/.measure`, '--template', 'bare'],
}
for (const format of formats) {
  const status = await marpCli(['--config-file', config, '--input-dir', dir, ...options[format]])
  if (status !== 0) process.exit(status)
}
