/** What an entry point needs of the running configuration (the gateway's runtime provides it). */
import type { Duplex } from 'node:stream'
import type { CompiledPipeline, PipelineContext } from '../pipeline/types.js'
import type { Transaction } from '../pipeline/transaction.js'
import type { IpMatcher } from '../net/address.js'
import type { OriginMatcher } from '../net/origin.js'

export interface EntryContext extends PipelineContext {
  readonly pipeline: CompiledPipeline
  /** Peers whose forwarded headers (X-Forwarded-For, -Proto, X-Request-ID) are believed. */
  readonly trustedProxies: IpMatcher
  /** Origins allowed to open a WebSocket besides the page's own. */
  readonly wsOrigins: OriginMatcher
  /** The WebSocket terminal: opens an upgrade the pipeline allowed; rejects with a fault. */
  openWebSocket(ctx: PipelineContext, tx: Transaction, socket: Duplex, head: Buffer): Promise<void>
}
