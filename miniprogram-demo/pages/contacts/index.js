// My contacts (conn.getContacts), each with the face and name the server gives (lib/names.js); the rows
// show at once with what is known and again when the profiles arrive. A tap opens the one-to-one chat.
const names = require('../../lib/names.js')
const directoryPage = require('../../lib/directory-page.js')

Component({
  behaviors: [directoryPage],
  data: { kind: 'single', empty: '还没有联系人' },
  methods: {
    async loadIds({ chat, conn }) {
      const ids = await names.contactIds(conn)
      chat.refreshProfiles(conn, ids).catch(() => null) // the rows are drawn again when they arrive
      return ids
    },

    rowOf(chat, id) {
      return { name: names.userName(chat, id), avatar: chat.profile(id).avatar || '', detail: '' }
    },
  },
})
