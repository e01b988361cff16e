/**
 * One fixed-shape object per request: every field is assigned in the
 * constructor and never added or deleted later, so V8 keeps one hidden class on the hot path.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Route, Verdict } from './types.js'
import type { Finding } from '../detection/engine.js'

/** Who the caller is, as established by the auth stage. */
export interface RequestIdentity {
  readonly userId: string
  readonly username: string
  /** Roles for users; scopes for API keys (they stand in for roles in route policies). */
  readonly roles: readonly string[]
  readonly via: 'bearer' | 'cookie' | 'api-key'
  /** Session (refresh family) for token logins; null for API keys. */
  readonly sid: string | null
  /** The API key's id (per-key rate limits); null for token logins. */
  readonly apiKeyId: string | null
  /** The verified access token, or for API keys a one-minute token minted for the upstream; forwarded when configured. */
  readonly token: string | null
}

export class Transaction {
  readonly id: string
  readonly startedAt: number
  readonly req: IncomingMessage
  readonly res: ServerResponse | null
  /** The TCP peer. */
  readonly peerIp: string
  /** Whether the peer is a trusted proxy (its forwarded headers are believed). */
  readonly trustedPeer: boolean
  /** The client as derived from the peer and, from trusted proxies only, X-Forwarded-For. */
  clientIp: string
  /** Whether the client's connection is HTTPS (own TLS, or X-Forwarded-Proto from a trusted proxy). */
  secure: boolean
  /**
   * The method every stage judges: the request's own, or the one a POST names in a method-override
   * header where limits.method_override says the app honours it (req.method stays the wire one).
   */
  method: string
  /** Path as received, without the query. */
  path: string
  /** Query string without the '?', or ''. */
  query: string
  /** Decoded, lower-cased path used for every policy match (see canonical-path.ts). */
  canonicalPath: string
  /** Host name (lower-case, no port) as validated by host-check. */
  host: string
  /** Host header value to forward (with port). */
  authority: string
  route: Route
  verdict: Verdict | null
  status: number
  upstreamMs: number
  /** Where an error that Drawbridge answered came from, for logs/metrics ('upstream', a stage id). */
  rejectedBy: string | null
  rejectReason: string | null
  /** WAF detections (at or above the threshold), blocked or only logged; null: none. */
  wafFindings: Finding[] | null
  wafScore: number
  wafBlocked: boolean
  /** Its security events went to the store already (blocked answers wait for them). */
  eventsRecorded: boolean
  /** The logging phase ran (it runs once, whichever end of the exchange comes first). */
  logged: boolean
  identity: RequestIdentity | null
  /** Response fields a stage computed for this request (the RateLimit fields); null: none. */
  responseFields: [string, string][] | null
  /** Kept here: node detaches req.socket once the response is done. */
  readonly socket: Socket
  /** The connection's byte count when this request began (the access log reports the difference). */
  readonly socketBytesAtStart: number

  constructor(id: string, req: IncomingMessage, res: ServerResponse | null, peerIp: string, trustedPeer: boolean, secure: boolean, route: Route) {
    this.id = id
    this.startedAt = performance.now()
    this.req = req
    this.res = res
    this.peerIp = peerIp
    this.trustedPeer = trustedPeer
    this.clientIp = peerIp
    this.secure = secure
    this.method = req.method ?? 'GET'
    this.path = '/'
    this.query = ''
    this.canonicalPath = '/'
    this.host = ''
    this.authority = ''
    this.route = route
    this.verdict = null
    this.status = 0
    this.upstreamMs = -1
    this.rejectedBy = null
    this.rejectReason = null
    this.wafFindings = null
    this.wafScore = 0
    this.wafBlocked = false
    this.eventsRecorded = false
    this.logged = false
    this.identity = null
    this.responseFields = null
    this.socket = req.socket
    this.socketBytesAtStart = req.socket.bytesWritten
  }
}
