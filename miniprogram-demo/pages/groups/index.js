// The groups I am in (chat.refreshGroups: conn.getJoinedGroups and each group's details from the server),
// with their faces, names (lib/names.js) and descriptions. A tap opens the group chat.
const names = require('../../lib/names.js')
const directoryPage = require('../../lib/directory-page.js')

Component({
  behaviors: [directoryPage],
  data: { kind: 'group', empty: '还没有加入群组' },
  methods: {
    async loadIds({ chat, conn }) {
      const groups = await chat.refreshGroups(conn)
      return groups.map(group => group.id)
    },

    rowOf(chat, id) {
      const group = chat.groupProfile(id)
      return { name: names.groupName(chat, id), avatar: group.avatar || '', detail: group.description || '' }
    },
  },
})
