// Compiled with `tsc --noEmit` by tests/js/typings.test.js: the typings cover the contract as pages use it.
import * as mpchat from '../../dist/mpchat/index'

async function page(conn: unknown, WebIM: unknown): Promise<void> {
  const chat = await mpchat.createChat({
    user: 'alice',
    profile: { nickname: 'Alice', avatar: 'https://example.com/a.png' },
    extKeys: { nickname: 'userNickname' },
    limits: { totalBytes: 4 * 1024 * 1024 },
    emoji: { extra: [{ code: '[ok]', file: 'ok.png' }] },
  })
  const options = chat.build({ type: 'txt', chatType: 'groupChat', to: 'g1', msg: 'hi [):]', mentions: ['bob'] })
  const sent: mpchat.Record = await chat.send(conn, { type: 'txt', to: 'bob', msg: 'hi' }, { WebIM })
  const status: mpchat.Status = sent.status
  const detach: () => void = chat.attach(conn, { style: 'listen' })
  const result = chat.receive({})
  const outcome: 'stored' | 'duplicate' | 'ignored' | 'unsaved' = result.outcome
  const off = chat.subscribe('group:g1', (record, info) => record.segments?.map((s) => s.data) ?? info.previousId)
  const older: mpchat.Record[] = chat.history('group:g1', { before: sent.id, limit: 20 })
  const found: { record: mpchat.Record; conversation: string }[] = chat.search('lunch', { conversation: 'group:g1', limit: 5, before: sent.id })
  found.forEach((hit) => hit.record.id)
  const unread: number = chat.conversations()[0].unread + chat.unreadTotal()
  chat.markRead('group:g1')
  chat.mute('group:g1', true)
  const used: number = chat.storageReport().bytesUsed
  const segments: mpchat.Segment[] = mpchat.parseEmoji('hi [):]')
  const label: string = mpchat.formatTime(Date.now(), { now: Date.now(), locale: 'en' })
  const left: string = mpchat.deleteLast('a[):]')
  off()
  detach()
  void [options, status, outcome, older, unread, used, segments, label, left]
}

void page
