// The emoji keyboard: mpchat's code table in swipeable pages, each ending in a delete key.
// Emits `pick` with {code} and `delete`; it never produces the text "[del]".
const context = require('../../lib/chat-context.js')

const PER_PAGE = 20 // a 7 × 3 grid: 20 emoji and the delete key

function paginate(table, perPage) {
  const pages = []
  for (let start = 0; start < table.length; start += perPage) pages.push(table.slice(start, start + perPage))
  return pages
}

Component({
  data: { pages: [] },
  lifetimes: {
    attached() {
      this.setData({ pages: paginate(context.current().mpchat.emojiTable(), PER_PAGE) })
    },
  },
  methods: {
    onPick(event) {
      this.triggerEvent('pick', { code: event.currentTarget.dataset.code })
    },
    onDelete() {
      this.triggerEvent('delete', {})
    },
  },
})
