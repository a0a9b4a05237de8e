'use strict';
// Waiting on records in end-to-end tests: a record as JSON would carry it, the stored record once it has
// arrived, a send that has settled, and a clock that has moved on.

/** A record (or anything) as a page would get it over JSON: no shared objects, no undefined fields. */
const plain = (value) => JSON.parse(JSON.stringify(value));

/**
 * Resolves with the stored record `id` of `conversation` once `chat` has it and `accept(record)` holds (already,
 * or after a change is published).
 */
function arrival(chat, conversation, id, accept = () => true) {
  return new Promise((resolve) => {
    const found = () => plain(chat.history(conversation, { limit: 1000 })).find((r) => r.id === id && accept(r));
    const off = chat.subscribe(conversation, () => {
      const record = found();
      if (record) { off(); resolve(record); }
    });
    const record = found();
    if (record) { off(); resolve(record); }
  });
}

/** Waits until Date.now() moves on, so that two messages get distinct server times. */
async function nextMillisecond() {
  const start = Date.now();
  while (Date.now() === start) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * chat.send, and the record once the server has acked it. An SDK whose send() reports nothing (3.x) acks
 * later, through onReceivedMessage; mpchat then re-keys the record and publishes it under the server id.
 */
async function sendSettled(sender, input) {
  const published = [];
  const off = sender.chat.subscribe('*', (record, { previousId }) => published.push([plain(record), previousId]));
  try {
    const record = plain(await sender.chat.send(sender.client.conn, input, { WebIM: sender.client.WebIM }));
    if (record.status !== 'sending') return record;
    for (;;) {
      const settled = published.find(([r, previousId]) => previousId === record.id && r.status !== 'sending');
      if (settled) return settled[0];
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    off();
  }
}

module.exports = { plain, arrival, nextMillisecond, sendSettled };
