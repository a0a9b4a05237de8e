// `make bench`: every benchmark, one report (needs dist/ built: `make build`).
'use strict'
const benches = [require('./emoji'), require('./store'), require('./load'), require('./search'), require('./jsc')]

async function main() {
  for (const bench of benches) console.log(`${await bench.run()}\n`)
}

main().catch((err) => { console.error(err); process.exit(1) })
