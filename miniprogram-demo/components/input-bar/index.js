// The chat input: a text box, an emoji key that opens the picker, and a send key.
// Emits `send` with {text}; the page decides how to send it. What the user types or picks also emits
// `change` with {value} (a value the page sets with setValue does not). The picker's delete key removes a whole
// emoji code at once (mpchat.deleteLast), as users expect from an emoji keyboard.
const context = require('../../lib/chat-context.js')

Component({
  data: { value: '', showEmoji: false, canSend: false },
  methods: {
    setValue(value) {
      this.setData({ value, canSend: value.trim().length > 0 })
    },
    onInput(event) {
      this.setValue(event.detail.value)
      this.triggerEvent('change', { value: this.data.value })
    },
    onFocus() {
      if (this.data.showEmoji) this.setData({ showEmoji: false })
    },
    toggleEmoji() {
      this.setData({ showEmoji: !this.data.showEmoji })
    },
    onPick(event) {
      this.setValue(this.data.value + event.detail.code)
      this.triggerEvent('change', { value: this.data.value })
    },
    onDelete() {
      this.setValue(context.current().mpchat.deleteLast(this.data.value))
    },
    onSend() {
      const text = this.data.value
      if (!text.trim()) return
      this.triggerEvent('send', { text })
      this.setValue('')
    },
  },
})
