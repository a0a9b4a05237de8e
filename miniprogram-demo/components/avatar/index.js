// A face: the picture when `src` is an https URL (and it loads), else a coloured circle with the first
// letter of `name` (lib/names.js face).
const names = require('../../lib/names.js')

Component({
  properties: {
    src: { type: String, value: '' },
    name: { type: String, value: '' },
  },
  data: { picture: '', initial: '?', color: '' },
  observers: {
    'src, name'(src, name) {
      this.setData(names.face(name, src))
    },
  },
  methods: {
    onError() {
      this.setData({ picture: '' })
    },
  },
})
