// One message: the sender's avatar and nickname, the bubble (text with emoji, a picture, or a type label)
// and, on my own messages, the delivery mark. Tapping the failed mark emits `retry` with {id}.
const { DEFAULT_AVATAR } = require('../../lib/present.js')

Component({
  properties: {
    message: { type: Object, value: {} },
    showName: { type: Boolean, value: false },
  },
  data: { avatar: DEFAULT_AVATAR },
  observers: {
    'message.avatar'(avatar) {
      this.setData({ avatar: avatar || DEFAULT_AVATAR })
    },
  },
  methods: {
    onAvatarError() {
      this.setData({ avatar: DEFAULT_AVATAR })
    },
    onRetry() {
      this.triggerEvent('retry', { id: this.data.message.id })
    },
  },
})
