/**
 * Graceful stop: no new connections, idle keep-alive connections closed as they become idle
 * (every 100 ms), in-flight requests allowed to finish until the deadline; then whatever is
 * left is cut, WebSocket sessions included (they have left node:http, which cannot reach them).
 */
import type { Server } from 'node:http'
import type { Logger } from '../observability/logger.js'
import type { ProxyServer } from './servers.js'

export async function drain(proxy: ProxyServer, others: readonly (Server | null)[], drainMs: number, logger: Logger): Promise<'drained' | 'timeout'> {
  const { server, upgraded } = proxy
  const servers = [server, ...others].filter((s): s is Server => s !== null && s.listening)
  const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
  server.closeIdleConnections()
  const deadline = new Promise<'timeout'>((resolve) => setTimeout(resolve, drainMs, 'timeout').unref())
  const idle = setInterval(() => server.closeIdleConnections(), 100)
  const outcome = await Promise.race([closed.then(() => 'drained' as const), deadline])
  clearInterval(idle)
  if (outcome === 'timeout') {
    logger.warn('drain deadline reached; closing remaining connections')
    for (const s of servers) s.closeAllConnections()
    for (const socket of upgraded) socket.destroy()
    await closed
  }
  return outcome
}
