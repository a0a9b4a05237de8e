// The @ picker of a group chat: a sheet listing 所有人 and the members (`members`: [{ id, name }]).
// Emits `pick` with {id, name}, and `close` when the mask or 取消 is tapped.
Component({
  properties: {
    members: { type: Array, value: [] },
  },
  methods: {
    onPick(event) {
      const { id, name } = event.currentTarget.dataset
      this.triggerEvent('pick', { id, name })
    },
    onClose() {
      this.triggerEvent('close', {})
    },
    stop() {},
  },
})
