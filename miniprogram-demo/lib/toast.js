// The one way the chat tells the user something went wrong or was dropped: a short text toast with no
// icon. Where wx has no showToast (tests that do not watch toasts) it does nothing.
function toast(title) {
  if (typeof wx.showToast === 'function') wx.showToast({ title, icon: 'none' })
}

module.exports = { toast }
