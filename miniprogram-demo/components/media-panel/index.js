// The panel under the input bar that the "+" key opens: 相册, 拍摄, 文件, 位置. Emits `pick` with {key}
// ('album' | 'camera' | 'file' | 'location'); the page opens the picker and sends what comes back.
const ACTIONS = [
  { key: 'album', label: '相册', icon: '🖼️' },
  { key: 'camera', label: '拍摄', icon: '📷' },
  { key: 'file', label: '文件', icon: '📁' },
  { key: 'location', label: '位置', icon: '📍' },
]

Component({
  data: { actions: ACTIONS },
  methods: {
    onPick(event) {
      this.triggerEvent('pick', { key: event.currentTarget.dataset.key })
    },
  },
})
