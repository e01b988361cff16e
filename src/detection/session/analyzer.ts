/**
 * Session fixation: the attacker plants a session id they know, then waits for the
 * victim to log in with it. Two shapes reach a gateway: a framework's session cookie name sent as
 * a query or form parameter (`?JSESSIONID=...`, `?PHPSESSID=...`: servers that accept ids from the
 * URL adopt them), and script or markup that sets the cookie (`document.cookie="sid=x; expires=..."`,
 * `<meta http-equiv="Set-Cookie">`). Generic names such as `session_id` pass: payment and OAuth
 * redirects carry those legitimately (`?session_id=cs_...`).
 */

export type SessionRule = 'session-id-parameter' | 'session-cookie-set'

export interface SessionFinding {
  readonly rule: SessionRule
  readonly confidence: number
}

// The session cookies of common frameworks (lower case); names that start a family go in the prefixes.
const sessionNames = new Set([
  'jsessionid',
  'phpsessid',
  'asp.net_sessionid',
  'cfid',
  'cftoken',
  'connect.sid',
  'sails.sid',
  'koa:sess',
  'koa.sess',
  'laravel_session',
  '_rails_session',
  'rack.session',
  'ci_session',
  'next-auth.session-token',
  '__host-next-auth.session-token',
  '__secure-next-auth.session-token',
  'weblogicsession',
  'jsessionidsso',
  'zendsessionid',
  'fedauth',
  'express:sess',
  'express.sid',
  'flask_session',
  '_flask_session',
  'beaker.session.id',
  'django_session',
  'wordpress_logged_in',
  'meteor_login_token',
  'play_session',
  'zend_session_id',
  'shiny-token',
  'jservsession',
  'jwsession',
  'cfsid',
  'phpsession',
  '_session_id',
  'aspsessionid',
])
const sessionPrefixes = ['aspsessionid', 'wordpress_logged_in_', 'wp-settings-', 'sess_']

export function analyzeSessionName(name: string): SessionFinding | null {
  if (name.length > 64) return null
  const lower = name.toLowerCase()
  if (sessionNames.has(lower)) return { rule: 'session-id-parameter', confidence: 0.8 }
  for (const p of sessionPrefixes) if (lower.startsWith(p) && lower.length > p.length) return { rule: 'session-id-parameter', confidence: 0.8 }
  return null
}

// `.cookie` then, after a ';', a cookie attribute: the text assigns a cookie.
const cookieAssignment = /\.cookie\b[^;]{0,512};[^=]{0,64}?\b(?:expires|domain|path|max-age)\s*=/i
const metaSetCookie = /http-equiv\W{0,8}set-cookie/i

export function analyzeSession(value: string): SessionFinding | null {
  const lower = value.toLowerCase()
  if (lower.indexOf('cookie') === -1) return null
  if (lower.indexOf('.cookie') !== -1 && cookieAssignment.test(value)) return { rule: 'session-cookie-set', confidence: 0.85 }
  if (lower.indexOf('http-equiv') !== -1 && metaSetCookie.test(value)) return { rule: 'session-cookie-set', confidence: 0.9 }
  return null
}
