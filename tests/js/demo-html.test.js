// The wxss conversion behind demo-out/chat.html: component classes scoped as WeChat scopes them, rpx at a
// 375-px phone, and `page` as the document body.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const { convertWxss } = require('../../scripts/demo-html.js')

test('wxss becomes CSS a browser lays out like the phone', () => {
  // (wxss, scope, css)
  const table = [
    ['.row.mine { padding: 14rpx 24rpx; }', 'message-bubble', '.message-bubble--row.message-bubble--mine { padding: 7px 12px; }'],
    ['.mine .bubble { background: #95ec69; line-height: 1.45; }', 'message-bubble',
      '.message-bubble--mine .message-bubble--bubble { background: #95ec69; line-height: 1.45; }'],
    ['.label, .recalled { color: #666; }', 'message-bubble', '.message-bubble--label, .message-bubble--recalled { color: #666; }'],
    ['/* note */ .emoji { vertical-align: -8rpx; width: 1rpx; }', 'emoji-text', '.emoji-text--emoji { vertical-align: -4px; width: 0.5px; }'],
    ['.page { height: 100vh; }', 'main', '.main--page { height: calc((100vh - 44px) * 1); }'],
    ['page { font-size: 30rpx; }', undefined, 'body { font-size: 15px; }'],
    // A component's own :host rule styles its element, below any class the page gives that element.
    [':host { display: block; width: 96rpx; }', 'avatar', ':where(.host-avatar) { display: block; width: 48px; }'],
  ]
  for (const [wxss, scope, css] of table) assert.equal(convertWxss(wxss, scope), css, wxss)
})
