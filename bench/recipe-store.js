// The recipe's way of keeping history, reproduced as the store benchmark's baseline (reference/easemob.md
// §5, design.md): one array per conversation under 'group_' + groupId (one-to-one: the peer's id), read
// whole, appended to and written back whole on every message, with the demo's emoji segments and the
// local time of storing. Nothing caps the array: once it passes wx's 1 MB per key (or the 10 MB in all),
// every setStorageSync throws and every further message of that conversation is lost.
'use strict'
const { demoParseEmoji } = require('./demo-parser')

const pad = (n) => String(n).padStart(2, '0')

function localTime(date) {
  return `${date.getFullYear()}-${date.getMonth() + 1}-${date.getDate()} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
}

/** The record the recipe stores for one SDK 4.x message. */
function recipeRecord(message, me) {
  return {
    msg: { type: message.type, data: demoParseEmoji(message.msg) },
    username: message.from,
    yourname: message.to,
    info: { from: message.from, to: message.to },
    style: message.from === me ? 'self' : '',
    time: localTime(new Date()),
    mid: message.type + message.id,
    ext: message.ext,
  }
}

function recipeKey(message, me) {
  if (message.chatType === 'groupChat') return 'group_' + message.to
  return message.from === me ? message.to : message.from
}

/** The recipe's receive path over `wx`: throws whatever setStorageSync throws. Returns the record stored. */
function createRecipeStore(wx, me) {
  return function store(message) {
    const key = recipeKey(message, me)
    const record = recipeRecord(message, me)
    const history = wx.getStorageSync(key) || []
    history.push(record)
    wx.setStorageSync(key, history)
    return record
  }
}

module.exports = { createRecipeStore, recipeRecord }
