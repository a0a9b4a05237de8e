// The long-press menu of one message: a row of reactions (mine highlighted) and the actions the page
// offers for it (present.menuFor). Emits `select` with {key}, `react` with {reaction, mine}, and `close`
// when the mask or 取消 is tapped.
Component({
  properties: {
    menu: { type: Object, value: { actions: [], reactions: [] } },
  },
  methods: {
    onSelect(event) {
      this.triggerEvent('select', { key: event.currentTarget.dataset.key })
    },
    onReact(event) {
      const { reaction, mine } = event.currentTarget.dataset
      this.triggerEvent('react', { reaction, mine: !!mine })
    },
    onClose() {
      this.triggerEvent('close', {})
    },
    stop() {},
  },
})
