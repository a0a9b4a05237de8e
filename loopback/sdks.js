'use strict';
// The easemob-websdk releases mpchat is proven against, installed side by side under npm aliases
// (package.json), and the one a test run drives: EASEMOB_SDK=<version>, the newest by default.
//
// Per release: its mini-program build (what mpchat's users ship; driven through the loopback server's
// in-memory wx.connectSocket) where it has one, and its web build (driven through the server's WebSocket
// listener). Web builds up to 4.7.0 open their socket through SockJS (an HTTP /info request, then a
// WebSocket carrying base64 text frames); later ones send binary frames on a plain WebSocket.
// `globals` are names a build reads at load time without checking that they exist (4.1.6's and 4.7.0's event
// reporters read `navigator`, 4.7.0's module wrapper `self`); they are declared, with no value, for those builds.

const fs = require('fs');
const path = require('path');

// What a release does differently from the newest, found by driving it against the loopback server. Each is a
// reason, so a test can skip (`{ skip: sdk.quirks.noIsLast }`) or expect the release's own behaviour.
const QUIRKS = {
  silentLoginRefusal: 'a refused login raises no event and never completes',
  mutedWithoutFail: 'a send refused because the sender is muted calls no fail callback, only onMutedMessage',
  unsettledOnDrop: 'a send pending when the socket drops never settles, and is not sent again',
  lostWhileDown: 'a send made while the server is down never settles and never goes out',
  brokenWhileDown: 'a send made while the server is down is rejected (510) once the server is back; then the SDK '
    + 'passes the raw frame it queued to its own send(), which rejects it (205, Missing required parameter: "id") '
    + 'in a promise nobody handles',
  unackedWhileDown: 'a send made while the server is down goes out once it is back, but its acknowledgement does '
    + 'not always reach the app (it may reconnect twice and send it on the second socket)',
  noBatchEvent: 'no onMessage batch event',
  noVideoThumb: 'addEventHandler gives a received video no thumb',
  dropsFileLength: 'message.create keeps no file_length for an image or file',
  noOnlineOnly: 'no deliverOnlineOnly: a typing notice is an ordinary cmd message, kept for users offline',
  noIsLast: 'getHistoryMessages resolves {cursor, messages} without isLast: the last page is the one with no cursor',
  noHistoryFilters: 'getHistoryMessages has no searchOptions (message types, sender, time range)',
  plainJoinedGroups: 'getJoinedGroups has no needAffiliations/needRole: it always answers [{groupid, groupname}]',
  rawRestErrors: 'a REST call the server refuses rejects with wx.request\'s raw answer ({statusCode, data: {error_description}}), '
    + 'with no SDK error type',
};
const quirks = (...names) => Object.fromEntries(names.map((name) => [name, QUIRKS[name]]));

const SDKS = [
  { version: '3.6.3', package: 'easemob-websdk-3.6.3', web: { bundle: 'Easemob-chat-3.6.3.js', sockjs: true },
    quirks: quirks('mutedWithoutFail', 'unsettledOnDrop', 'unackedWhileDown', 'noBatchEvent', 'noOnlineOnly') },
  { version: '4.0.8', package: 'easemob-websdk-4.0.8', web: { bundle: 'Easemob-chat.js', sockjs: true },
    quirks: quirks('silentLoginRefusal', 'unsettledOnDrop', 'lostWhileDown', 'noBatchEvent', 'dropsFileLength', 'noOnlineOnly',
      'noIsLast', 'noHistoryFilters', 'plainJoinedGroups') },
  { version: '4.1.6', package: 'easemob-websdk-4.1.6', miniProgram: { globals: ['navigator'] }, web: { bundle: 'Easemob-chat.js', sockjs: true },
    quirks: quirks('silentLoginRefusal', 'brokenWhileDown', 'noBatchEvent', 'noVideoThumb', 'rawRestErrors', 'noIsLast') },
  { version: '4.7.0', package: 'easemob-websdk-4.7.0', miniProgram: { globals: ['self', 'navigator'] }, web: { bundle: 'Easemob-chat.js', sockjs: true },
    quirks: quirks('rawRestErrors') },
  { version: '4.13.0', package: 'easemob-websdk-4.13.0', miniProgram: {}, web: { bundle: 'Easemob-chat.js' } },
  { version: '4.17.0', package: 'easemob-websdk-4.17.0', miniProgram: {}, web: { bundle: 'Easemob-chat.js' } },
  { version: '4.19.1', package: 'easemob-websdk-4.19.1', miniProgram: {}, web: { bundle: 'Easemob-chat.js' } },
  { version: '4.21.1', package: 'easemob-websdk', miniProgram: {}, web: { bundle: 'Easemob-chat.js' } },
].map((sdk) => ({
  quirks: {},
  ...sdk,
  // 3.x has only the legacy API: `new WebIM.message(type, id)`, `msg.set({..., success, fail})`, `conn.listen`.
  legacy: sdk.version.startsWith('3.'),
  // The build a test run drives: the mini-program build where there is one.
  build: sdk.miniProgram ? 'miniProgram' : 'web',
}));

const NEWEST = SDKS[SDKS.length - 1];

function packageDir(sdk) {
  return path.dirname(require.resolve(`${sdk.package}/package.json`));
}

/** Absolute path of a build's bundle: `build` is 'miniProgram' or 'web' (default: the one a run drives). */
function bundlePath(sdk, build = sdk.build) {
  if (build === 'miniProgram' && !sdk.miniProgram) throw new Error(`easemob-websdk ${sdk.version} has no mini-program build`);
  return path.join(packageDir(sdk), build === 'web' ? sdk.web.bundle : path.join('miniProgram', 'Easemob-chat.js'));
}

/** The version the installed package says it is. */
function installedVersion(sdk) {
  return JSON.parse(fs.readFileSync(path.join(packageDir(sdk), 'package.json'), 'utf8')).version;
}

function findSdk(version) {
  const sdk = SDKS.find((s) => s.version === version);
  if (!sdk) throw new Error(`easemob-websdk ${version} is not in the matrix (${SDKS.map((s) => s.version).join(', ')})`);
  return sdk;
}

/** The SDK a test run drives: EASEMOB_SDK names the version; the newest when unset. */
function sdkUnderTest() {
  return process.env.EASEMOB_SDK ? findSdk(process.env.EASEMOB_SDK) : NEWEST;
}

module.exports = { SDKS, QUIRKS, NEWEST, bundlePath, installedVersion, findSdk, sdkUnderTest };
