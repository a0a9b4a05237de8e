// The easemob-websdk release a test run drives (EASEMOB_SDK=<version>, the newest by default; see
// loopback/sdks.js), and the tags that file a test under the columns of `make compat`'s table.
'use strict'
const path = require('path')
const { sdkUnderTest } = require(path.join(__dirname, '..', '..', '..', 'loopback', 'sdks.js'))

/** The compat table's columns, in order, with the heading each is printed under. */
const COLUMNS = {
  single: 'one-to-one',
  group: 'group',
  chatroom: 'chat room',
  handler: 'addEventHandler',
  listen: 'listen()',
  acks: 'acks',
  recall: 'recall',
  failed: 'failed send',
  network: 'bad network',
  history: 'history',
  edit: 'edit',
  reactions: 'reactions',
  groups: 'groups',
  users: 'contacts, users',
  files: 'files',
  typing: 'typing',
}

/** `title [col col]`: scripts/compat.js counts the test under each named column. */
function tagged(title, ...columns) {
  for (const column of columns) if (!(column in COLUMNS)) throw new Error(`no compat column '${column}'`)
  return `${title} [${columns.join(' ')}]`
}

const SDK = sdkUnderTest()

module.exports = { SDK, COLUMNS, tagged }
