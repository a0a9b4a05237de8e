#!/usr/bin/env node
// Fills in the parts of miniprogram-demo/ that are not committed: dist/mpchat (from the build) into
// miniprogram-demo/mpchat/, and the Easemob SDK's mini-program build into miniprogram-demo/sdk/. Then prints
// the size of the main package, which WeChat limits to 2 MB.
// Run after the build: node scripts/demo-package.js
'use strict'

const fs = require('fs')
const path = require('path')

const REPO = path.join(__dirname, '..')
const DEMO = path.join(REPO, 'miniprogram-demo')
const LIMIT = 2 * 1024 * 1024
const NOT_PACKAGED = new Set(['README.md', 'project.config.json', 'project.private.config.json'])

function copyDemoDependencies() {
  const dist = path.join(REPO, 'dist', 'mpchat')
  if (!fs.existsSync(path.join(dist, 'index.js'))) throw new Error('dist/mpchat is missing: run `make build` first')
  fs.rmSync(path.join(DEMO, 'mpchat'), { recursive: true, force: true })
  fs.cpSync(dist, path.join(DEMO, 'mpchat'), { recursive: true })
  const sdk = require.resolve('easemob-websdk/miniProgram/Easemob-chat.js', { paths: [REPO] })
  fs.mkdirSync(path.join(DEMO, 'sdk'), { recursive: true })
  fs.copyFileSync(sdk, path.join(DEMO, 'sdk', 'easemob-websdk.js'))
}

// Bytes per top-level entry of the package, README and project files left out as WeChat's packer does.
function packageSizes() {
  const sizeOf = p => {
    const stat = fs.statSync(p)
    if (!stat.isDirectory()) return stat.size
    return fs.readdirSync(p).reduce((sum, name) => sum + sizeOf(path.join(p, name)), 0)
  }
  return fs.readdirSync(DEMO)
    .filter(name => !NOT_PACKAGED.has(name))
    .map(name => [name, sizeOf(path.join(DEMO, name))])
    .sort((a, b) => b[1] - a[1])
}

function main() {
  copyDemoDependencies()
  const sizes = packageSizes()
  const total = sizes.reduce((sum, [, bytes]) => sum + bytes, 0)
  const kb = bytes => `${(bytes / 1024).toFixed(1)} KB`
  for (const [name, bytes] of sizes) console.log(`  ${name.padEnd(16)} ${kb(bytes).padStart(10)}`)
  console.log(`main package: ${kb(total)} of ${kb(LIMIT)} (${((100 * total) / LIMIT).toFixed(0)}%)`)
  if (total > LIMIT) process.exitCode = 1
}

module.exports = { copyDemoDependencies, packageSizes }
if (require.main === module) main()
