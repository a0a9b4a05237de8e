// The hold-to-talk key that replaces the text box in voice mode: hold to record (wx.getRecorderManager,
// mp3, at most 60 s; at 60 s the recording is sent as it stands), release to send, slide up to cancel
// (松开 取消). Shorter than 1 s is dropped with 说话时间太短. Emits `record` with {path, duration (whole
// seconds), size (bytes)}.
const { toast } = require('../../lib/toast.js')

const MAX_MS = 60 * 1000
const MIN_MS = 1000
const CANCEL_SLIDE_PX = 60 // this far above where the finger went down, releasing cancels

function touchY(event) {
  const touch = (event.touches && event.touches[0]) || (event.changedTouches && event.changedTouches[0])
  return touch ? touch.clientY : 0
}

Component({
  data: { state: 'idle' }, // 'idle' | 'recording' | 'cancelling' (the finger slid up)
  lifetimes: {
    attached() {
      this.recorder = wx.getRecorderManager()
      this.recorder.onStop(result => this.onStopped(result))
      this.recorder.onError(() => this.onFailed())
    },
    detached() {
      if (this.holding) this.release(true)
    },
  },
  methods: {
    onTouchStart(event) {
      if (this.holding) return
      this.holding = true
      this.discard = false
      this.startY = touchY(event)
      this.startedAt = Date.now()
      this.setData({ state: 'recording' })
      this.recorder.start({ format: 'mp3', duration: MAX_MS, sampleRate: 16000, numberOfChannels: 1, encodeBitRate: 48000 })
    },
    onTouchMove(event) {
      if (!this.holding) return
      const state = this.startY - touchY(event) > CANCEL_SLIDE_PX ? 'cancelling' : 'recording'
      if (state !== this.data.state) this.setData({ state })
    },
    onTouchEnd() {
      if (this.holding) this.release(this.data.state === 'cancelling')
    },
    onTouchCancel() {
      if (this.holding) this.release(true)
    },

    // The finger is up: the recording stops, and is dropped when cancelled or too short (the recorder may
    // not even have started then, so its answer is not waited for).
    release(cancelled) {
      this.holding = false
      const tooShort = Date.now() - this.startedAt < MIN_MS
      this.discard = cancelled || tooShort
      if (tooShort && !cancelled) toast('说话时间太短')
      this.setData({ state: 'idle' })
      this.recorder.stop()
    },

    // The recorder stopped: after release, or by itself at 60 s with the finger still down.
    onStopped(result) {
      if (this.holding) {
        this.holding = false
        this.setData({ state: 'idle' })
      }
      if (this.discard) return
      this.discard = true
      const ms = (result && result.duration) || Date.now() - this.startedAt
      if (ms < MIN_MS) {
        toast('说话时间太短')
        return
      }
      this.triggerEvent('record', { path: result.tempFilePath, duration: Math.round(ms / 1000), size: result.fileSize })
    },

    onFailed() {
      const silent = this.discard
      this.holding = false
      this.discard = true
      if (this.data.state !== 'idle') this.setData({ state: 'idle' })
      if (!silent) toast('录音失败')
    },
  },
})
