// The chat input: a voice key that swaps the text box for the hold-to-talk key (voice-button), the text
// box, an emoji key that opens the picker, and a "+" key that opens the media panel (media-panel) until
// there is text to send, when it becomes the send key. Emits `send` with {text}, `media` with {key} (the
// panel's choice) and `voice` with {path, duration, size} (a recording); the page decides how to send them.
// What the user types or picks also emits `change` with {value} (a value the page sets with setValue does
// not). The picker's delete key removes a whole emoji code at once (mpchat.deleteLast), as users expect from
// an emoji keyboard.
const context = require('../../lib/chat-context.js')

Component({
  data: { value: '', showEmoji: false, showPanel: false, voice: false, canSend: false },
  methods: {
    setValue(value) {
      this.setData({ value, canSend: value.trim().length > 0 })
    },
    onInput(event) {
      this.setValue(event.detail.value)
      this.triggerEvent('change', { value: this.data.value })
    },
    onFocus() {
      if (this.data.showEmoji || this.data.showPanel) this.setData({ showEmoji: false, showPanel: false })
    },
    toggleEmoji() {
      this.setData({ showEmoji: !this.data.showEmoji, showPanel: false, voice: false })
    },
    togglePanel() {
      this.setData({ showPanel: !this.data.showPanel, showEmoji: false })
    },
    toggleVoice() {
      this.setData({ voice: !this.data.voice, showEmoji: false, showPanel: false })
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
    onMediaPick(event) {
      this.setData({ showPanel: false })
      this.triggerEvent('media', { key: event.detail.key })
    },
    onRecord(event) {
      this.triggerEvent('voice', event.detail)
    },
  },
})
