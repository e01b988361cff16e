/** The proxy's listening server (HTTP or HTTPS) wired to the entry points. */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { readFileSync } from 'node:fs'
import type { AddressInfo, Socket } from 'node:net'
import { parseHostPort } from '../net/address.js'
import type { Logger } from '../observability/logger.js'
import type { Duplex } from 'node:stream'
import type { Config } from '../config/types.js'
import { handleBadExpectation, handleRequest } from '../listener/http.js'
import { handleUpgrade } from '../listener/upgrade.js'
import { clientError } from '../listener/parse-errors.js'
import { refuseConnect } from '../listener/connect.js'
import type { CompiledConfig } from './compiled-config.js'

export interface ProxyServer {
  readonly server: Server
  /**
   * Upgraded sockets have left node:http: closeAllConnections() does not reach them, while
   * server.close() still waits for them. Kept here to be cut at the drain deadline.
   */
  readonly upgraded: ReadonlySet<Duplex>
}

/** `current()`: the running compiled configuration, read per request (a reload swaps it). */
export function createProxyServer(initial: CompiledConfig, current: () => CompiledConfig): ProxyServer {
  const secure = initial.config.tls !== null
  const limits = initial.config.limits
  const onRequest = (req: IncomingMessage, res: ServerResponse) => handleRequest(current(), req, res, secure)
  const serverOptions = {
    maxHeaderSize: limits.max_header_bytes,
    // We answer a missing Host ourselves, as JSON with a request id.
    requireHostHeader: false,
    headersTimeout: limits.header_timeout,
    // The whole request (head and body) within header_timeout + the longest body_timeout;
    // routes with shorter body deadlines are checked by the pipeline's body phase.
    requestTimeout: initial.pipeline.requestTimeout,
    keepAliveTimeout: 5000,
    connectionsCheckingInterval: 500,
  }
  const server: Server = secure ? createHttpsServer({ ...serverOptions, ...tlsOptions(initial.config) }, onRequest) : createHttpServer(serverOptions, onRequest)
  // Without this listener node would answer 100 Continue before any check has run.
  server.on('checkContinue', onRequest)
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => handleBadExpectation(current(), req, res, secure))
  const upgraded = new Set<Duplex>()
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.add(socket)
    socket.once('close', () => upgraded.delete(socket))
    handleUpgrade(current(), req, socket, head, secure)
  })
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => clientError(current(), err, socket))
  server.on('connect', (_req: IncomingMessage, socket: Socket) => refuseConnect(current(), socket))
  if (secure) server.on('tlsClientError', () => initial.metrics.inc('drawbridge_rejections_total', 'stage="tls",reason="handshake failed"'))
  return { server, upgraded }
}

export function tlsOptions(c: Config): { cert: Buffer; key: Buffer; minVersion: 'TLSv1.2' | 'TLSv1.3' } {
  return { cert: readFileSync(c.tls!.cert_file), key: readFileSync(c.tls!.key_file), minVersion: c.tls!.min_version }
}

export function urlOf(server: Server, secure: boolean): string {
  const a = server.address() as AddressInfo
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address
  return `${secure ? 'https' : 'http'}://${host}:${a.port}`
}

export function listenOn(server: Server, hostPort: string, logger: Logger): Promise<void> {
  const { host, port } = parseHostPort(hostPort)
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.removeListener('error', reject)
      // A listening server reports failed accepts (EMFILE when a flood of connections exhausts
      // the file descriptors) as 'error': without a listener that ends the process, with one
      // the server goes on accepting once descriptors are free again.
      server.on('error', (err: NodeJS.ErrnoException) =>
        logger.error('listener error', { listen: hostPort, code: err.code ?? null, syscall: err.syscall ?? null }),
      )
      resolve()
    })
  })
}
