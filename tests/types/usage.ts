// Compiled with `tsc --noEmit` by tests/js/typings.test.js: the typings cover the contract as pages use it.
import * as mpchat from '../../dist/mpchat/index'

async function page(conn: unknown, WebIM: unknown): Promise<void> {
  const chat = await mpchat.createChat({
    user: 'alice',
    profile: { nickname: 'Alice', avatar: 'https://example.com/a.png' },
    extKeys: { nickname: 'userNickname' },
    limits: { totalBytes: 4 * 1024 * 1024 },
    emoji: { extra: [{ code: '[ok]', file: 'ok.png' }] },
    sendTimeoutMs: 20000,
  })
  const options = chat.build({ type: 'txt', chatType: 'groupChat', to: 'g1', msg: 'hi [):]', mentions: ['bob'] })
  const sent: mpchat.Record = await chat.send(conn, { type: 'txt', to: 'bob', msg: 'hi' }, { WebIM })
  const status: mpchat.Status = sent.status
  const again: mpchat.Record = await chat.resend(conn, sent.id, { WebIM })
  const why: number | string | undefined = again.error?.code
  const picked: mpchat.Record = await chat.send(conn, {
    type: 'video', chatType: 'singleChat', to: 'bob',
    file: { path: 'wxfile://tmp_1.mp4', name: 'clip.mp4', size: 2048, duration: 12, thumb: 'wxfile://tmp_1.jpg' },
  }, { WebIM, onProgress: (percent: number) => console.log(percent) })
  const uploading: number | undefined = picked.progress ?? picked.error?.status
  const edited: mpchat.Record = await chat.edit(conn, sent.id, 'hi again', { WebIM })
  const edits: number = edited.edited?.count ?? 0
  const reacted: mpchat.Record = await chat.react(conn, sent.id, '👍', true)
  const recalled: boolean = (await chat.recall(conn, sent.id)).recalled === true
  const mineToo: boolean | undefined = reacted.reactions?.some((r: mpchat.Reaction) => r.mine && r.count > 0 && r.reaction === '👍')
  const fetched: mpchat.Record[] = await chat.fetchOlder(conn, 'group:g1', { limit: 20 })
  const oldestFirst: number = (fetched[0]?.time ?? 0) + (await chat.fetchOlder(conn, 'single:bob')).length
  const people: mpchat.UserProfile[] = await chat.refreshProfiles(conn, ['bob', 'carol'], { maxAgeMs: 60_000 })
  const bob: mpchat.UserProfile = chat.profile('bob')
  const bobShown: string = (bob.nickname ?? bob.id) + (bob.avatar ?? '') + bob.source + people.length
  const groups: mpchat.GroupListing[] = await chat.refreshGroups(conn, { maxAgeMs: 0 })
  const g1: mpchat.GroupProfile = chat.groupProfile('g1')
  const groupShown: string = groups[0].name + (g1.name ?? g1.id) + (g1.source === 'server' ? g1.avatar ?? '' : '') + bobShown
  const offDirectory: () => void = chat.on('directory', ({ users, groups: ids }) => (users ?? ids ?? []).length)
  const change: mpchat.ChangeResult = chat.receiveEdit({}) ?? chat.receiveReactions({})
  const changed: string = change.outcome + (change.reason ?? '') + (change.record?.edited?.by ?? '') + edits + String(mineToo) + oldestFirst
  const killed: number = chat.openReport().failedSends
  const detach: () => void = chat.attach(conn, { style: 'listen' })
  const result = chat.receive({})
  const outcome: 'stored' | 'duplicate' | 'ignored' | 'unsaved' = result.outcome
  const off = chat.subscribe('group:g1', (record, info) => record.segments?.map((s) => s.data) ?? info.previousId)
  const older: mpchat.Record[] = chat.history('group:g1', { before: sent.id, limit: 20 })
  const found: { record: mpchat.Record; conversation: string }[] = chat.search('lunch', { conversation: 'group:g1', limit: 5, before: sent.id })
  const drafted: 'updated' | 'unchanged' | 'unsaved' = chat.setDraft('group:g1', 'half-typed').outcome
  const pinnedFirst: boolean = chat.pin('group:g1', true).outcome === 'updated' && chat.conversations()[0].pinned
  const draft: string = chat.draft('group:g1') + chat.conversations()[0].draft
  found.forEach((hit) => hit.record.id)
  const unread: number = chat.conversations()[0].unread + chat.unreadTotal()
  chat.markRead('group:g1')
  const removal: 'updated' | 'unchanged' | 'notFound' | 'unsaved' = chat.remove('m1').outcome
  const cleared: string | undefined = chat.clear('group:g1').reason
  chat.removeConversation('group:g1')
  chat.subscribe('group:g1', (record, info) => {
    const gone: boolean = record.removed === true || info.removed === true || info.cleared === true
    return gone
  })
  chat.mute('group:g1', true)
  const used: number = chat.storageReport().bytesUsed
  const flushed: 'saved' | 'unsaved' = chat.flush().outcome
  const segments: mpchat.Segment[] = mpchat.parseEmoji('hi [):]')
  const label: string = mpchat.formatTime(Date.now(), { now: Date.now(), locale: 'en' })
  const left: string = mpchat.deleteLast('a[):]')
  off()
  detach()
  void [options, status, again, why, killed, outcome, older, unread, used, flushed, segments, label, left, removal, cleared, groupShown, offDirectory]
}

void page
