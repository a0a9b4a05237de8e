// One message: the sender's avatar and nickname, the bubble (text with emoji; a picture, video poster, voice,
// file card or location card with the upload's progress while mine is sending; or a type label) and, on my
// own messages, the delivery mark; above it the message it quotes, beside it 已编辑 once edited, under it the
// reactions. Tapping the failed mark emits `retry` with {id}; tapping a media bubble emits `open` with {id}
// (the page previews, plays or opens it; `playing` marks the voice being played); a long press on the bubble
// emits `menu` with {id}; tapping a reaction emits `react` with {id, reaction, mine}.
const { DEFAULT_AVATAR } = require('../../lib/present.js')

Component({
  properties: {
    message: { type: Object, value: {} },
    showName: { type: Boolean, value: false },
    playing: { type: Boolean, value: false },
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
    onOpen() {
      if (this.data.message.media) this.triggerEvent('open', { id: this.data.message.id })
    },
    onMenu() {
      this.triggerEvent('menu', { id: this.data.message.id })
    },
    onReact(event) {
      const { reaction, mine } = event.currentTarget.dataset
      this.triggerEvent('react', { id: this.data.message.id, reaction, mine: !!mine })
    },
  },
})
