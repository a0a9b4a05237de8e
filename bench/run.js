// `make bench`: every benchmark, one report.
'use strict'
const benches = [require('./emoji')]

async function main() {
  for (const bench of benches) console.log(`${await bench.run()}\n`)
}

main().catch((err) => { console.error(err); process.exit(1) })
