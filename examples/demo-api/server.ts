// A deliberately naive API reproducing the endpoints of the FastAPI security checklist, so that
// Drawbridge's protections are visible when it runs in front. The flaws are real where they are
// contained (SQL injection on an in-memory database, stored XSS, leaked stack traces, weak cookies)
// and simulated where they would reach the host (path traversal never reads outside the demo
// folder, the ping command is never executed). It only ever listens on 127.0.0.1.

import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile, realpath } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import Database from 'better-sqlite3'
import { openApiDocument } from './openapi.js'

const HOST = '127.0.0.1'
const DEFAULT_PORT = 8000
const MAX_BODY_BYTES = 64 * 1024
const MAX_COMMENTS = 100

export interface DemoApi {
  url: string
  port: number
  close(): Promise<void>
}

interface DemoUser {
  name: string
  email: string
  role: string
  password: string
}

interface Comment {
  id: number
  text: string
}

// Plaintext passwords on purpose: the login endpoint is the "naive" example.
const SEED_USERS: readonly DemoUser[] = [
  { name: 'admin', email: 'admin@example.com', role: 'admin', password: 'admin123' },
  { name: 'alice', email: 'alice@example.com', role: 'user', password: 'alice-password' },
  { name: 'bob', email: 'bob@example.com', role: 'user', password: 'hunter2' },
  { name: 'carol', email: 'carol@example.com', role: 'user', password: 'correct horse' },
]

const COMMON_HEADERS = { Server: 'demo-api/0.1', 'X-Powered-By': 'node' } as const

// Looks like what an unhandled error prints in a careless Node app; fixed text, nothing real leaks.
const FAKE_STACK_TRACE = [
  'Error: Cannot read properties of undefined (reading "balance")',
  '    at handler (/app/server.js:10:5)',
  '    at Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:95:5)',
  '    at next (/app/node_modules/express/lib/router/route.js:149:13)',
  '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
  '',
].join('\n')

// The compiled file runs from dist/examples/demo-api/ but the demo files stay in the source tree.
function findRepoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error('demo-api: cannot find the repository root (package.json)')
    dir = parent
  }
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLarge())
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    const finish = (err: Error | null): void => {
      if (done) return
      done = true
      req.off('data', onData)
      if (err) {
        // Stop buffering; the response closes the connection.
        req.pause()
        reject(err)
      } else {
        resolve(Buffer.concat(chunks, size))
      }
    }
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > limit) return finish(new BodyTooLarge())
      chunks.push(chunk)
    }
    req.on('data', onData)
    req.on('end', () => finish(null))
    req.on('error', (err) => finish(err))
    req.on('close', () => finish(new Error('request aborted')))
  })
}

type Sender = (status: number, body: string, contentType: string, extra?: Record<string, string | string[]>) => void

function makeSender(res: ServerResponse): Sender {
  return (status, body, contentType, extra = {}) => {
    if (res.headersSent || res.destroyed) return
    res.writeHead(status, {
      ...COMMON_HEADERS,
      'Content-Type': contentType,
      'Content-Length': Buffer.byteLength(body),
      ...extra,
    })
    res.end(body)
  }
}

function sendJson(send: Sender, status: number, value: unknown, extra?: Record<string, string | string[]>): void {
  send(status, JSON.stringify(value), 'application/json', extra)
}

// FastAPI-shaped validation errors (pydantic v2 style).
function missingField(send: Sender, loc: (string | number)[]): void {
  sendJson(send, 422, {
    detail: [{ type: 'missing', loc, msg: 'Field required', input: null }],
  })
}

function invalidJson(send: Sender, error: string): void {
  sendJson(send, 422, {
    detail: [
      {
        type: 'json_invalid',
        loc: ['body', 0],
        msg: 'JSON decode error',
        input: {},
        ctx: { error },
      },
    ],
  })
}

function notString(send: Sender, loc: (string | number)[], input: unknown): void {
  sendJson(send, 422, {
    detail: [{ type: 'string_type', loc, msg: 'Input should be a valid string', input }],
  })
}

type JsonResult = { ok: true; value: unknown } | { ok: false }

function parseJsonBody(send: Sender, body: Buffer): JsonResult {
  if (body.length === 0) {
    missingField(send, ['body'])
    return { ok: false }
  }
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) as unknown }
  } catch (err) {
    invalidJson(send, err instanceof Error ? err.message : String(err))
    return { ok: false }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function requiredQuery(send: Sender, query: URLSearchParams, name: string): string | null {
  const value = query.get(name)
  if (value === null) missingField(send, ['query', name])
  return value
}

// The folder itself counts as inside (reading it fails as a directory, hence 404).
function isInside(folder: string, candidate: string): boolean {
  const rel = path.relative(folder, candidate)
  return !(rel === '..' || rel.startsWith('..' + path.sep) || path.isAbsolute(rel))
}

function docsPage(): string {
  return `<!DOCTYPE html>
<html>
<head>
<link type="text/css" rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
<title>Drawbridge demo API - Swagger UI</title>
</head>
<body>
<div id="swagger-ui"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>
const ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  oauth2RedirectUrl: window.location.origin + '/docs/oauth2-redirect',
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  layout: 'BaseLayout',
  deepLinking: true,
})
</script>
</body>
</html>
`
}

function redocPage(): string {
  return `<!DOCTYPE html>
<html>
<head>
<title>Drawbridge demo API - ReDoc</title>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1">
</head>
<body>
<redoc spec-url="/openapi.json"></redoc>
<script src="https://cdn.jsdelivr.net/npm/redoc@next/bundles/redoc.standalone.js"></script>
</body>
</html>
`
}

function oauth2RedirectPage(): string {
  return `<!doctype html>
<html lang="en-US">
<head><title>Swagger UI: OAuth2 Redirect</title></head>
<body>
<script>
'use strict'
// Hands the authorization response back to the Swagger UI window that opened this one.
const opener = window.opener && window.opener.swaggerUIRedirectOauth2
if (opener) {
  const qp = new URLSearchParams(window.location.hash.slice(1) || window.location.search.slice(1))
  opener.callback({
    auth: opener.auth,
    token: Object.fromEntries(qp),
    isValid: true,
    redirectUrl: opener.redirectUrl,
  })
}
window.close()
</script>
</body>
</html>
`
}

function commentsPage(comments: readonly Comment[]): string {
  // Stored XSS on purpose: the text goes into the page exactly as it was posted.
  const items = comments.map((c) => `  <li>${c.text}</li>`).join('\n')
  return `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>Comments</title></head>
<body>
<h1>Comments</h1>
<ul>
${items}
</ul>
</body>
</html>
`
}

// Known paths and the methods each accepts; HEAD is allowed wherever GET is, as in Starlette.
const ROUTES = new Map<string, readonly string[]>([
  ['/users', ['GET']],
  ['/comments', ['GET', 'POST']],
  ['/comments/page', ['GET']],
  ['/files', ['GET']],
  ['/ping', ['GET']],
  ['/login', ['POST']],
  ['/docs', ['GET']],
  ['/docs/oauth2-redirect', ['GET']],
  ['/redoc', ['GET']],
  ['/openapi.json', ['GET']],
  ['/debug/crash', ['GET']],
  ['/debug/headers', ['GET']],
  ['/health', ['GET']],
])

function splitTarget(target: string): { pathname: string; query: URLSearchParams } | null {
  let raw = target
  // Absolute-form request targets (proxies may send them): keep only path and query.
  if (!raw.startsWith('/')) {
    try {
      const u = new URL(raw)
      raw = u.pathname + u.search
    } catch {
      return null
    }
  }
  const q = raw.indexOf('?')
  const rawPath = q === -1 ? raw : raw.slice(0, q)
  let pathname: string
  try {
    pathname = decodeURIComponent(rawPath)
  } catch {
    return null
  }
  return { pathname, query: new URLSearchParams(q === -1 ? '' : raw.slice(q + 1)) }
}

export async function startDemoApi(options: { port?: number } = {}): Promise<DemoApi> {
  const port = options.port ?? DEFAULT_PORT
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`demo-api: invalid port ${String(port)}`)
  }
  // Plain JS callers could still pass a host; this app must never leave the loopback interface.
  const requestedHost = (options as { host?: unknown }).host
  if (requestedHost !== undefined && requestedHost !== HOST) {
    throw new Error(`demo-api: refusing to listen on ${String(requestedHost)}; only ${HOST} is allowed`)
  }

  const filesFolder = path.join(findRepoRoot(), 'examples', 'demo-api', 'files')
  const realFilesFolder = await realpath(filesFolder)

  const db = new Database(':memory:')
  db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, role TEXT)')
  const insert = db.prepare('INSERT INTO users (name, email, role) VALUES (?, ?, ?)')
  for (const u of SEED_USERS) insert.run(u.name, u.email, u.role)
  // Injection may read anything but can never modify the seed data.
  db.pragma('query_only = ON')

  const comments: Comment[] = []
  let nextCommentId = 1

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = makeSender(res)
    const target = splitTarget(req.url ?? '/')
    if (target === null) return sendJson(send, 404, { detail: 'Not Found' })
    const { pathname, query } = target
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET')

    const allowed = ROUTES.get(pathname)
    if (allowed === undefined) return sendJson(send, 404, { detail: 'Not Found' })
    if (!allowed.includes(method)) {
      return sendJson(send, 405, { detail: 'Method Not Allowed' }, { Allow: allowed.join(', ') })
    }

    let body: Buffer = Buffer.alloc(0)
    if (method === 'POST') {
      try {
        body = await readBody(req, MAX_BODY_BYTES)
      } catch (err) {
        if (err instanceof BodyTooLarge) {
          return sendJson(send, 413, { detail: 'Request body too large' }, { Connection: 'close' })
        }
        res.destroy()
        return
      }
    }

    switch (pathname) {
      case '/users': {
        const name = requiredQuery(send, query, 'name')
        if (name === null) return
        // SQL injection on purpose: the name goes straight into the statement.
        const sql = "SELECT id, name, email, role FROM users WHERE name = '" + name + "'"
        try {
          return sendJson(send, 200, db.prepare(sql).all())
        } catch (err) {
          // A naive app leaking the database error and its stack trace.
          const trace = err instanceof Error ? (err.stack ?? err.message) : String(err)
          return send(500, `${trace}\n\nQuery: ${sql}\n`, 'text/plain; charset=utf-8')
        }
      }

      case '/comments': {
        if (method === 'GET') return sendJson(send, 200, comments)
        const parsed = parseJsonBody(send, body)
        if (!parsed.ok) return
        if (!isRecord(parsed.value)) return missingField(send, ['body', 'text'])
        const text = parsed.value['text']
        if (text === undefined) return missingField(send, ['body', 'text'])
        if (typeof text !== 'string') return notString(send, ['body', 'text'], text)
        const comment: Comment = { id: nextCommentId++, text }
        comments.push(comment)
        // Bounded store: the oldest comments go first.
        if (comments.length > MAX_COMMENTS) comments.splice(0, comments.length - MAX_COMMENTS)
        return sendJson(send, 201, comment)
      }

      case '/comments/page':
        return send(200, commentsPage(comments), 'text/html; charset=utf-8')

      case '/files': {
        const name = requiredQuery(send, query, 'name')
        if (name === null) return
        // Naive join, as a careless app would do it; only the check below keeps us in the folder.
        const resolved = path.join(filesFolder, name)
        if (!isInside(filesFolder, resolved)) {
          return sendJson(send, 200, {
            would_read: resolved,
            note: 'a naive app would have served this file',
          })
        }
        try {
          // Also refuse symlinks that point out of the folder.
          const real = await realpath(resolved)
          if (!isInside(realFilesFolder, real)) {
            return sendJson(send, 200, {
              would_read: real,
              note: 'a naive app would have served this file',
            })
          }
          const content = await readFile(real, 'utf8')
          return send(200, content, 'text/plain; charset=utf-8')
        } catch {
          // Missing files, directories, NUL bytes in the name: all simply "not found".
          return sendJson(send, 404, { detail: 'File not found' })
        }
      }

      case '/ping': {
        const host = requiredQuery(send, query, 'host')
        if (host === null) return
        // Command injection shown, never performed: nothing here spawns a process.
        return sendJson(send, 200, {
          command: 'ping -c 1 ' + host,
          note: 'a naive app would have passed this string to a shell; the demo never executes it',
        })
      }

      case '/login': {
        let username: unknown
        let password: unknown
        const contentType = (req.headers['content-type'] ?? '').toLowerCase()
        if (contentType.startsWith('application/x-www-form-urlencoded')) {
          const form = new URLSearchParams(body.toString('utf8'))
          username = form.get('username') ?? undefined
          password = form.get('password') ?? undefined
        } else {
          const parsed = parseJsonBody(send, body)
          if (!parsed.ok) return
          if (!isRecord(parsed.value)) return missingField(send, ['body', 'username'])
          username = parsed.value['username']
          password = parsed.value['password']
        }
        if (username === undefined) return missingField(send, ['body', 'username'])
        if (password === undefined) return missingField(send, ['body', 'password'])
        if (typeof username !== 'string') return notString(send, ['body', 'username'], username)
        if (typeof password !== 'string') return notString(send, ['body', 'password'], password)
        // Plaintext, non-constant-time comparison on purpose.
        const user = SEED_USERS.find((u) => u.name === username && u.password === password)
        if (user === undefined) {
          return sendJson(send, 401, { detail: 'Incorrect username or password' }, { 'WWW-Authenticate': 'Bearer' })
        }
        // Weak cookies on purpose (no Secure, HttpOnly or SameSite) so the gateway's fix shows.
        return sendJson(
          send,
          200,
          { access_token: randomBytes(16).toString('hex'), token_type: 'bearer' },
          {
            'Set-Cookie': [`session=${randomBytes(16).toString('hex')}; Path=/`, 'theme=light; Path=/'],
          },
        )
      }

      case '/docs':
        return send(200, docsPage(), 'text/html; charset=utf-8')
      case '/docs/oauth2-redirect':
        return send(200, oauth2RedirectPage(), 'text/html; charset=utf-8')
      case '/redoc':
        return send(200, redocPage(), 'text/html; charset=utf-8')
      case '/openapi.json':
        return sendJson(send, 200, openApiDocument)
      case '/debug/crash':
        return send(500, FAKE_STACK_TRACE, 'text/plain; charset=utf-8')
      case '/debug/headers':
        return sendJson(send, 200, req.headers)
      case '/health':
        return sendJson(send, 200, { status: 'ok' })
      default:
        return sendJson(send, 404, { detail: 'Not Found' })
    }
  }

  const server = createServer((req, res) => {
    res.on('error', () => res.destroy())
    handle(req, res).catch(() => {
      // Last resort: a bug in the demo must not take the process down.
      makeSender(res)(500, 'Internal Server Error', 'text/plain; charset=utf-8')
    })
  })
  // Unparseable requests: answer like the rest of the app instead of Node's bare 400.
  server.on('clientError', (_err, socket) => {
    if (!socket.writable) return void socket.destroy()
    socket.end('HTTP/1.1 400 Bad Request\r\nServer: demo-api/0.1\r\nX-Powered-By: node\r\n' + 'Connection: close\r\nContent-Length: 0\r\n\r\n')
  })

  try {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err)
      server.once('error', onError)
      server.listen(port, HOST, () => {
        server.off('error', onError)
        resolve()
      })
    })
  } catch (err) {
    db.close()
    throw err
  }
  const actualPort = (server.address() as AddressInfo).port

  let closing: Promise<void> | null = null
  return {
    url: `http://${HOST}:${actualPort}`,
    port: actualPort,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => {
          db.close()
          resolve()
        })
        // Keep-alive clients would otherwise hold close() open.
        server.closeAllConnections()
      })
      return closing
    },
  }
}

async function main(): Promise<void> {
  // Someone asking for another interface gets a clear refusal rather than a silent 127.0.0.1.
  const envHost = process.env.HOST
  if (envHost !== undefined && envHost !== '' && envHost !== HOST && envHost !== 'localhost') {
    throw new Error(`refusing HOST=${envHost}: the demo API only listens on ${HOST}`)
  }
  const port = Number(process.env.PORT ?? DEFAULT_PORT)
  const api = await startDemoApi({ port })
  console.log(`demo-api listening on ${api.url} (deliberately vulnerable: put Drawbridge in front)`)
  const stop = (): void => {
    void api.close().then(() => process.exit(0))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

const entry = process.argv[1]
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  main().catch((err: unknown) => {
    console.error(`demo-api: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  })
}
