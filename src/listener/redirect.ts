/** The optional plain-HTTP listener next to HTTPS: it only redirects, and only for trusted hosts. */
import { createServer as createHttpServer, type Server } from 'node:http'
import { randomUUID } from 'node:crypto'
import type { Config } from '../config/types.js'
import { compileHostMatcher, parseAuthority } from '../net/authority.js'
import { sendBare } from '../pipeline/respond.js'

/** The optional plain-HTTP listener: a 308 to HTTPS for trusted hosts only (never an open redirect). */
export function createRedirectServer(getConfig: () => Config, httpsPort: () => number): Server {
  let matcherFor: Config | null = null
  let matcher = compileHostMatcher(['localhost'])
  const server = createHttpServer({ maxHeaderSize: 8192, requireHostHeader: false }, (req, res) => {
    const config = getConfig()
    if (matcherFor !== config) {
      matcher = compileHostMatcher(config.trusted_hosts)
      matcherFor = config
    }
    const host = parseAuthority(req.headers.host ?? '')
    const id = randomUUID()
    if (host === null || !matcher.matches(host) || !(req.url ?? '').startsWith('/')) {
      return sendBare(res, 400, 'DRAWBRIDGE_ERR_HOST_NOT_ALLOWED', id, null)
    }
    const port = httpsPort()
    sendBare(res, 308, null, id, { location: `https://${host}${port === 443 ? '' : ':' + port}${req.url}` })
  })
  server.on('clientError', (_e, socket) => socket.destroy())
  return server
}
