/** HTTP helpers for tests: undici for ordinary requests, a raw socket for malformed ones. */
import { connect } from 'node:net'
import { request as undiciRequest, Agent } from 'undici'

const agent = new Agent({ keepAliveTimeout: 100, connections: 16 })

export interface TestResponse {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly text: string
  json(): any
}

export async function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<TestResponse> {
  const headers = { host: 'localhost', 'user-agent': 'drawbridge-test', ...options.headers }
  const res = await undiciRequest(url, {
    method: (options.method ?? 'GET') as 'GET',
    headers,
    body: options.body,
    dispatcher: agent,
  })
  const text = await res.body.text()
  return {
    status: res.statusCode,
    headers: res.headers,
    text,
    json: () => JSON.parse(text),
  }
}

export interface RawResponse {
  readonly status: number
  readonly head: string
  readonly body: string
  header(name: string): string | undefined
}

/** Sends bytes as they are and reads until the server closes or `timeoutMs` passes. */
export function rawRequest(url: string, data: string | Buffer, timeoutMs = 5000): Promise<RawResponse> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(u.port), u.hostname)
    const chunks: Buffer[] = []
    const timer = setTimeout(() => socket.destroy(), timeoutMs)
    socket.on('data', (c: Buffer) => {
      chunks.push(c)
      // one response is enough: stop once a full body has arrived
      const s = Buffer.concat(chunks).toString('latin1')
      const end = s.indexOf('\r\n\r\n')
      const m = /\r\ncontent-length: *(\d+)/i.exec(s)
      if (end !== -1 && m && s.length >= end + 4 + Number(m[1])) socket.end()
    })
    socket.on('error', reject)
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(parseRaw(Buffer.concat(chunks).toString('latin1')))
    })
    socket.write(data)
  })
}

export function parseRaw(s: string): RawResponse {
  const end = s.indexOf('\r\n\r\n')
  const head = end === -1 ? s : s.slice(0, end)
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head)
  let body = end === -1 ? '' : s.slice(end + 4)
  if (/\r\ntransfer-encoding: *chunked/i.test(head)) body = dechunk(body)
  return {
    status: m ? Number(m[1]) : 0,
    head,
    body,
    header(name: string) {
      const r = new RegExp(`\\r\\n${name}: *([^\\r\\n]*)`, 'i').exec(head)
      return r?.[1]
    },
  }
}

export async function closeAgent(): Promise<void> {
  await agent.close()
}

function dechunk(s: string): string {
  let out = ''
  let i = 0
  while (i < s.length) {
    const eol = s.indexOf('\r\n', i)
    if (eol === -1) break
    const size = parseInt(s.slice(i, eol), 16)
    if (!(size > 0)) break
    out += s.slice(eol + 2, eol + 2 + size)
    i = eol + 2 + size + 2
  }
  return out
}
