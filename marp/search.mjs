// Build the site's Pagefind index from records (one per slide) read as JSON on standard input:
// [{url, title, content}, ...]. Usage: node marp/search.mjs PROJECT OUTPUT_DIR
// PROJECT is the course's folder: its node_modules holds pagefind (this script may be the
// packaged copy, with no node_modules above it).
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const [project, output] = process.argv.slice(2)
const folder = path.join(project, 'node_modules', 'pagefind')
const manifest = JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf-8'))
const entry = manifest.exports?.['.']?.import ?? manifest.main  // an ES module: no require()
const pagefind = await import(pathToFileURL(path.join(folder, entry)).href)
const records = JSON.parse(readFileSync(0, 'utf-8'))
const { index, errors } = await pagefind.createIndex({})
if (!index) throw new Error(errors.join('; '))
for (const record of records) {
  const added = await index.addCustomRecord({
    url: record.url,
    content: record.content,
    language: 'en',
    meta: { title: record.title },
  })
  if (added.errors.length) throw new Error(added.errors.join('; '))
}
const written = await index.writeFiles({ outputPath: output })
if (written.errors.length) throw new Error(written.errors.join('; '))
await pagefind.close()
