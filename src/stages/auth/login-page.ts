/**
 * The built-in login page: server-rendered, no script at all, a CSP that allows only
 * its own inline style by hash and posts only to itself. Every value written into it is
 * HTML-escaped.
 */
import { createHash } from 'node:crypto'

const style =
  'body{font:16px system-ui,sans-serif;max-width:22rem;margin:4rem auto;padding:0 1rem;color:#111}' +
  'label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.5rem;box-sizing:border-box}' +
  'button{margin-top:1rem;padding:.5rem 1rem}p.error{color:#a00}'

const styleHash = createHash('sha256').update(style).digest('base64')

export const loginPageCsp = `default-src 'none'; style-src 'sha256-${styleHash}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

export function loginPage(o: { action: string; csrfToken: string; returnTo: string; error: string | null; username: string }): string {
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">' +
    `<title>Sign in</title><style>${style}</style></head><body><h1>Sign in</h1>` +
    (o.error === null ? '' : `<p class="error" role="alert">${escapeHtml(o.error)}</p>`) +
    `<form method="post" action="${escapeHtml(o.action)}">` +
    `<input type="hidden" name="csrf_token" value="${escapeHtml(o.csrfToken)}">` +
    `<input type="hidden" name="return_to" value="${escapeHtml(o.returnTo)}">` +
    `<label for="username">Username</label><input id="username" name="username" autocomplete="username" required value="${escapeHtml(o.username)}">` +
    '<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>' +
    '<button type="submit">Sign in</button></form></body></html>'
  )
}

/** Only a local path may be a return target: never another site (open redirect). */
export function safeReturnTo(v: unknown): string {
  if (typeof v !== 'string' || v.length > 2048 || !v.startsWith('/') || v.startsWith('//') || v.startsWith('/\\')) return '/'
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i)
    if (c < 33 || c > 126 || c === 92) return '/'
  }
  return v
}
