// Shows text segments from mpchat.parseEmoji: plain text as text, emoji codes as inline images.
Component({
  options: { addGlobalClass: false },
  properties: {
    segments: { type: Array, value: [] },
  },
})
