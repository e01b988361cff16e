/**
 * Access tokens: short JWTs (RFC 9068 `at+jwt`) signed by the newest key of the
 * ring, through jose. Verification pins the algorithm, issuer, audience and type, so `alg: none`,
 * HS256 signed with the public key, unknown `kid`s and expired or foreign tokens all fail.
 * Verified tokens are remembered until they expire: an EdDSA check costs ~150 µs, a lookup ~1.
 * A token's life is bounded by `access_ttl` whatever its `exp` says, and an `iat` in the future
 * (beyond `clock_skew`) is refused: a token signed with a leaked key, or by a misconfigured
 * instance, cannot outlive the rules (RFC 8725 §3.10; RFC 7519 §4.1.6).
 */
import { randomUUID } from 'node:crypto'
import { SignJWT, jwtVerify, decodeProtectedHeader, errors } from 'jose'
import type { Clock } from './clock.js'
import type { KeyRing } from './key-ring.js'

export interface AccessClaims {
  /** User id. */
  readonly sub: string
  readonly username: string
  readonly roles: readonly string[]
  /** Refresh family (the session) the token belongs to; null for tokens minted for API keys. */
  readonly sid: string | null
  /** The API key a token minted for an API-key caller stands for (claim `akid`); null otherwise. */
  readonly akid: string | null
  readonly jti: string
  /** Seconds since the epoch, as in the JWT. */
  readonly iat: number
  readonly exp: number
}

export interface AccessTokenOptions {
  readonly ring: KeyRing
  readonly clock: Clock
  readonly issuer: string
  readonly audience: string
  readonly ttlMs: number
  readonly skewMs: number
  /** Verified tokens remembered (bounded). */
  readonly cacheSize?: number
}

export type VerifyFailure = 'malformed' | 'expired' | 'invalid'

export class AccessTokens {
  readonly #o: AccessTokenOptions
  readonly #cache = new Map<string, AccessClaims>()
  readonly #cacheSize: number

  constructor(o: AccessTokenOptions) {
    this.#o = o
    this.#cacheSize = o.cacheSize ?? 10_000
  }

  get ttlMs(): number {
    return this.#o.ttlMs
  }

  /**
   * Signs a token for `user`: of a session (`sid`), or standing for an API key (`apiKeyId`: the
   * key's revocation then ends the token too). `ttlMs` may shorten the life, never lengthen it
   * past `access_ttl` (verification refuses longer lives).
   */
  async issue(
    user: { id: string; username: string; roles: readonly string[] },
    sid: string | null,
    o: { readonly ttlMs?: number; readonly apiKeyId?: string } = {},
  ): Promise<{ token: string; claims: AccessClaims }> {
    const key = this.#o.ring.current()
    const iat = Math.floor(this.#o.clock() / 1000)
    const lifeS = Math.min(Math.ceil((o.ttlMs ?? this.#o.ttlMs) / 1000), this.#maxLifeS)
    const akid = o.apiKeyId ?? null
    const claims: AccessClaims = { sub: user.id, username: user.username, roles: [...user.roles], sid, akid, jti: randomUUID(), iat, exp: iat + lifeS }
    const token = await new SignJWT({ username: claims.username, roles: claims.roles, ...(sid === null ? {} : { sid }), ...(akid === null ? {} : { akid }) })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
      .setSubject(claims.sub)
      .setIssuer(this.#o.issuer)
      .setAudience(this.#o.audience)
      .setIssuedAt(claims.iat)
      .setExpirationTime(claims.exp)
      .setJti(claims.jti)
      .sign(key.signing)
    return { token, claims }
  }

  /** The longest life a token may have, in whole seconds (what `issue` gives by default). */
  get #maxLifeS(): number {
    return Math.ceil(this.#o.ttlMs / 1000)
  }

  /** The token's claims, or why it is refused. */
  async verify(token: string): Promise<AccessClaims | VerifyFailure> {
    const nowS = this.#o.clock() / 1000
    const skewS = this.#o.skewMs / 1000
    const cached = this.#cache.get(token)
    if (cached !== undefined) {
      if (cached.exp + skewS > nowS) return cached
      this.#cache.delete(token)
      return 'expired'
    }
    if (token.length > 4096 || token.split('.').length !== 3) return 'malformed'
    let kid: string | undefined
    try {
      kid = decodeProtectedHeader(token).kid
    } catch {
      return 'malformed'
    }
    if (typeof kid !== 'string') return 'invalid'
    const key = await this.#o.ring.find(kid)
    if (key === null) return 'invalid'
    try {
      const { payload } = await jwtVerify(token, key.verifying, {
        algorithms: [key.alg],
        issuer: this.#o.issuer,
        audience: this.#o.audience,
        typ: 'at+jwt',
        clockTolerance: skewS,
        currentDate: new Date(this.#o.clock()),
        // Age bound (access_ttl, plus the tolerance): also refuses an iat in the future.
        maxTokenAge: this.#maxLifeS,
        requiredClaims: ['sub', 'iat', 'exp', 'jti'],
      })
      // A life longer than access_ttl was not issued by these rules: refused, even while young.
      if (payload.exp! - payload.iat! > this.#maxLifeS) return 'invalid'
      const roles = payload['roles']
      const username = payload['username']
      const sid = payload['sid']
      const akid = payload['akid']
      if (
        !Array.isArray(roles) ||
        !roles.every((r) => typeof r === 'string') ||
        typeof username !== 'string' ||
        (sid !== undefined && typeof sid !== 'string') ||
        (akid !== undefined && typeof akid !== 'string')
      ) {
        return 'invalid'
      }
      const claims: AccessClaims = {
        sub: payload.sub!,
        username,
        roles,
        sid: sid ?? null,
        akid: akid ?? null,
        jti: payload.jti!,
        iat: payload.iat!,
        exp: payload.exp!,
      }
      if (this.#cache.size >= this.#cacheSize) this.#cache.delete(this.#cache.keys().next().value!)
      this.#cache.set(token, claims)
      return claims
    } catch (err) {
      if (err instanceof errors.JWTExpired) return 'expired'
      return 'invalid'
    }
  }

  /** Forgets remembered verifications (after a revocation). */
  forget(): void {
    this.#cache.clear()
  }
}
