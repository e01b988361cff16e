/**
 * The upgrade entry point (RFC 6455). The head goes through the same head steps as any request;
 * then the Origin must be allowed (same origin, or in the CORS allowlist): browsers always send
 * it, so this stops cross-site WebSocket hijacking. The WebSocket terminal then opens it upstream.
 */
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Transaction } from '../pipeline/transaction.js'
import { verdict, type Verdict } from '../pipeline/types.js'
import { runHead } from '../pipeline/run.js'
import { afterBlockStored, refuseUpgrade, upgradeFault } from '../pipeline/respond.js'
import { logTransaction, recordWafEvents } from '../pipeline/log.js'
import type { EntryContext } from './context.js'
import { prepare } from './http.js'

const notAllowed = verdict('websocket', 400, 'DRAWBRIDGE_ERR_BAD_REQUEST', 'upgrade not allowed')
// The opening handshake is a GET (RFC 6455 §4.1); any other method would be judged as itself
// here and opened upstream as a GET.
const notGet = verdict('websocket', 400, 'DRAWBRIDGE_ERR_BAD_REQUEST', 'upgrade method not GET')
const crossOrigin = verdict('websocket', 403, 'DRAWBRIDGE_ERR_ORIGIN_NOT_ALLOWED', 'origin not allowed')

export function handleUpgrade(rt: EntryContext, req: IncomingMessage, socket: Duplex, head: Buffer, secure: boolean): void {
  socket.on('error', () => socket.destroy())
  let tx: Transaction
  try {
    const [t, early] = prepare(rt, req, null, secure)
    tx = t
    // One access line per upgrade like any request, when its connection ends: refused (by
    // Drawbridge or the app), failed, or a WebSocket session (logged with its whole duration).
    socket.once('close', () => logTransaction(rt, t))
    if (early !== null) return refuseUpgrade(tx, socket, early)
  } catch {
    socket.destroy()
    return
  }
  if (!rt.config.websocket.enabled || String(req.headers.upgrade).toLowerCase() !== 'websocket') return refuseUpgrade(tx, socket, notAllowed)
  if (req.method !== 'GET') return refuseUpgrade(tx, socket, notGet)
  const judged = (v: Verdict | undefined): void => {
    // An attack in an upgrade is an attack: stored before the answer, counted toward a ban.
    if (v !== undefined) return afterBlockStored(rt, tx, () => refuseUpgrade(tx, socket, v))
    if (tx.wafFindings !== null) recordWafEvents(rt, tx)
    if (!originAllowed(rt, tx)) return refuseUpgrade(tx, socket, crossOrigin)
    rt.openWebSocket(rt, tx, socket, head).catch((err: unknown) => upgradeFault(rt, tx, socket, err))
  }
  try {
    Promise.resolve(runHead(tx)).then(judged, (err: unknown) => upgradeFault(rt, tx, socket, err))
  } catch (err) {
    upgradeFault(rt, tx, socket, err)
  }
}

function originAllowed(rt: EntryContext, tx: Transaction): boolean {
  const origin = tx.req.headers.origin
  if (origin === undefined) return !rt.config.websocket.require_origin
  if (rt.wsOrigins.matches(origin)) return true
  // Same origin: the page was served by this very host.
  const expected = (tx.secure ? 'https://' : 'http://') + tx.authority.toLowerCase()
  return origin.toLowerCase() === expected
}
