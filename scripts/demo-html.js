// Turns a page rendered under miniprogram-simulate into one self-contained HTML file a browser shows the
// way a phone would: WXML tags become div/span/img, each page's and component's wxss is scoped to it as
// WeChat scopes component styles (class `x` inside component `c` becomes `c--x`; a component's element is
// inline unless its `:host` rule or the page's class on it says otherwise), rpx becomes px at a 375-px-wide
// phone (1rpx = 0.5px), and images are inlined as data: URIs.
'use strict'

const fs = require('fs')
const path = require('path')

const NAV_BAR_PX = 44
const PAGE_SCOPE = 'main' // miniprogram-simulate's root tag; the page's own classes are scoped to it

const TAGS = {
  'wx-view': 'div',
  'wx-text': 'span',
  'wx-image': 'img',
  'wx-scroll-view': 'div',
  'wx-swiper': 'div',
  'wx-swiper-item': 'div',
  'wx-button': 'button',
  'wx-input': 'input',
}
const VOID = new Set(['img', 'input'])
const MIME = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.svg': 'image/svg+xml' }

function escapeHtml(text) {
  return String(text).replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c])
}

function dataUri(file) {
  const mime = MIME[path.extname(file).toLowerCase()]
  if (!mime) throw new Error(`demo-html: no MIME type known for ${file}`)
  return `data:${mime};base64,${fs.readFileSync(file).toString('base64')}`
}

/** rpx → px at a 375-px phone; vh → the window below the navigation bar, as in a page. */
function convertUnits(declarations) {
  return declarations
    .replace(/(-?\d*\.?\d+)rpx/g, (_, n) => `${Number(n) / 2}px`)
    .replace(/(\d*\.?\d+)vh/g, (_, n) => `calc((100vh - ${NAV_BAR_PX}px) * ${Number(n) / 100})`)
}

/**
 * One wxss file as CSS. With a `scope`, every class selector is renamed `scope--class` and `:host` is the
 * component's element (below the classes the page gives it, as in WeChat); without one (app.wxss)
 * selectors stay global and `page` means the document body.
 */
function convertWxss(source, scope) {
  const css = source.replace(/\/\*[\s\S]*?\*\//g, '')
  const rules = []
  for (const [, selectors, body] of css.matchAll(/([^{}]+)\{([^{}]*)\}/g)) {
    const renamed = selectors.split(',').map(s => {
      const selector = s.trim()
      if (!scope) return selector.replace(/\bpage\b/g, 'body')
      return selector.replace(/\.([A-Za-z_-][\w-]*)/g, (_, name) => `.${scope}--${name}`).replace(/:host\b/g, `:where(.host-${scope})`)
    })
    rules.push(`${renamed.join(', ')} { ${convertUnits(body.trim())} }`)
  }
  return rules.join('\n')
}

/** Every component a page uses, as [tag, folder], found through usingComponents. */
function componentsOf(pageDir) {
  const found = new Map()
  const visit = dir => {
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8'))
    for (const [tag, ref] of Object.entries(config.usingComponents || {})) {
      const folder = path.dirname(path.resolve(dir, ref))
      if (found.has(tag)) continue
      found.set(tag, folder)
      visit(folder)
    }
  }
  visit(pageDir)
  return found
}

function attrOf(node, name) {
  const found = (node.attrs || []).find(a => a.name === name)
  return found ? found.value : undefined
}

function classesIn(node, scope) {
  const value = attrOf(node, 'class')
  if (!value) return []
  return String(value).split(/\s+/).filter(Boolean).map(c => `${scope}--${c}`)
}

/**
 * The HTML of a toJSON() tree. `images(src)` gives what an <image src> becomes (a data: URI or a path);
 * `components` the custom component tags, whose children are scoped to the tag.
 */
function nodeToHtml(node, scope, ctx) {
  if (typeof node === 'string') return escapeHtml(node)
  if (ctx.components.has(node.tagName)) {
    const inner = node.children.map(child => nodeToHtml(child, node.tagName, ctx)).join('')
    const classes = ['wx-host', `host-${node.tagName}`, ...classesIn(node, scope)]
    const id = attrOf(node, 'id')
    return `<div class="${classes.join(' ')}"${id ? ` id="${escapeHtml(id)}"` : ''}>${inner}</div>`
  }
  const tag = TAGS[node.tagName]
  if (!tag) throw new Error(`demo-html: no HTML for <${node.tagName}>; add it to TAGS`)
  const classes = [node.tagName, ...classesIn(node, scope)]
  const attrs = [`class="${classes.join(' ')}"`]
  const id = attrOf(node, 'id')
  if (id) attrs.push(`id="${escapeHtml(id)}"`)
  const style = attrOf(node, 'style')
  if (style) attrs.push(`style="${escapeHtml(convertUnits(style))}"`)
  if (tag === 'img') {
    const src = attrOf(node, 'src')
    if (src) attrs.push(`src="${escapeHtml(ctx.images(src))}"`)
    const label = attrOf(node, 'ariaLabel')
    attrs.push(`alt="${escapeHtml(label || '')}"`)
    const mode = attrOf(node, 'mode')
    if (mode) attrs.push(`data-mode="${escapeHtml(mode)}"`)
  }
  if (tag === 'input') {
    for (const [from, to] of [['value', 'value'], ['placeholder', 'placeholder']]) {
      const value = attrOf(node, from)
      if (value) attrs.push(`${to}="${escapeHtml(value)}"`)
    }
  }
  if (tag === 'button') {
    attrs.push(`data-type="${escapeHtml(attrOf(node, 'type') || 'default')}"`)
    if (attrOf(node, 'disabled')) attrs.push('disabled')
  }
  const open = `<${tag} ${attrs.join(' ')}>`
  if (VOID.has(tag)) return open
  return `${open}${node.children.map(child => nodeToHtml(child, scope, ctx)).join('')}</${tag}>`
}

// What WeChat's built-in components look like by default, as far as this page needs; :where() keeps these
// rules below any wxss rule in specificity.
const BASE_CSS = `
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; }
body { -webkit-text-size-adjust: none; }
.nav-bar { height: ${NAV_BAR_PX}px; line-height: ${NAV_BAR_PX}px; text-align: center; font-size: 17px;
  font-weight: 600; border-bottom: 0.5px solid #e0e0e0; }
:where(.wx-view, .wx-scroll-view, .wx-swiper, .wx-swiper-item) { display: block; }
:where(.wx-host) { display: inline; }
:where(.wx-scroll-view) { overflow-y: auto; }
:where(.wx-text) { white-space: pre-wrap; }
:where(.wx-image) { display: inline-block; width: 160px; height: 120px; object-fit: fill; }
:where(.wx-image[data-mode="aspectFit"]) { object-fit: contain; }
:where(.wx-image[data-mode="widthFix"]) { height: auto; }
:where(.wx-input) { border: 0; outline: 0; font: inherit; display: block; }
:where(.wx-button) { border: 0; border-radius: 4px; font-size: 13px; padding: 0 12px; height: 30px;
  line-height: 30px; color: #fff; background: #07c160; font-weight: 600; }
:where(.wx-button[disabled]) { opacity: 0.6; }
`

/**
 * A page under miniprogram-simulate as a standalone HTML document.
 * @param {object} options
 * @param {object} options.page the mounted page (its toJSON() tree is rendered)
 * @param {string} options.pageDir the page's folder (index.wxss, index.json)
 * @param {string} options.root the mini-program's root (app.json, app.wxss, /images/...)
 * @param {string} options.title the navigation bar title
 * @param {(src: string) => string|undefined} [options.remoteImage] a data: URI or path for an https image
 */
function renderPageHtml({ page, pageDir, root, title, remoteImage = () => undefined }) {
  const components = componentsOf(pageDir)
  const app = JSON.parse(fs.readFileSync(path.join(root, 'app.json'), 'utf8'))
  const window = app.window || {}
  const images = src => {
    if (src.startsWith('/')) return dataUri(path.join(root, src))
    return remoteImage(src) || src
  }
  const css = [
    BASE_CSS,
    convertWxss(fs.readFileSync(path.join(root, 'app.wxss'), 'utf8')),
    convertWxss(fs.readFileSync(path.join(pageDir, 'index.wxss'), 'utf8'), PAGE_SCOPE),
    ...[...components].map(([tag, dir]) => convertWxss(fs.readFileSync(path.join(dir, 'index.wxss'), 'utf8'), tag)),
  ].join('\n')
  const tree = page.toJSON()
  const body = tree.children.map(child => nodeToHtml(child, PAGE_SCOPE, { components, images })).join('')
  // scroll-into-view: the list shows the anchored message, as the page asks.
  const scrolls = collectScrolls(tree)
  const script = scrolls.length === 0 ? '' : `<script>
for (const anchor of ${JSON.stringify(scrolls)}) {
  const el = document.getElementById(anchor)
  if (el) el.scrollIntoView({ block: 'end' })
}
</script>`
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
${css}
.nav-bar { background: ${window.navigationBarBackgroundColor || '#f7f7f7'}; color: ${window.navigationBarTextStyle === 'white' ? '#fff' : '#000'}; }
</style>
</head>
<body>
<div class="nav-bar">${escapeHtml(title)}</div>
${body}
${script}
</body>
</html>
`
}

// The anchor id of every scroll-view with scroll-into-view set.
function collectScrolls(node, out = []) {
  if (!node || typeof node !== 'object') return out
  if (node.tagName === 'wx-scroll-view') {
    const anchor = attrOf(node, 'scrollIntoView')
    if (anchor) out.push(anchor)
  }
  for (const child of node.children || []) collectScrolls(child, out)
  return out
}

module.exports = { renderPageHtml, convertWxss }
