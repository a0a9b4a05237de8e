// Rows of people or groups: face, name and a line of detail; a status line (loading, empty, failed)
// above them. Tapping a row emits `open` with {id}.
Component({
  properties: {
    rows: { type: Array, value: [] }, // [{ id, name, avatar, detail }]
    status: { type: String, value: '' },
  },
  methods: {
    onTap(event) {
      this.triggerEvent('open', { id: event.currentTarget.dataset.id })
    },
  },
})
