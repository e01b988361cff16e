/** The validated, normalised, frozen configuration (mirrors schema.ts; durations in milliseconds). */

export type Mode = 'production' | 'development'
export type HeaderProfile = 'api' | 'html' | 'docs'

export interface HeaderPolicy {
  readonly profile?: HeaderProfile
  readonly set?: Readonly<Record<string, string>>
  readonly remove?: readonly string[]
}

export interface RouteConfig {
  readonly name?: string
  readonly match: { readonly path: string; readonly methods?: readonly string[] }
  readonly max_body_bytes?: number
  readonly body_timeout?: number
  readonly response_timeout?: number
  readonly request_buffering?: boolean
  readonly headers?: HeaderPolicy
  readonly waf?: { readonly enabled?: boolean; readonly mode?: WafMode; readonly paranoia?: 1 | 2 | 3 | 4; readonly inspect_body?: boolean }
}

export type WafMode = 'block' | 'detect'

export interface WafExclusion {
  readonly path?: string
  readonly methods?: readonly string[]
  readonly location?: 'path' | 'query' | 'header' | 'cookie' | 'body'
  readonly name?: string
  readonly rules: readonly string[]
}

export interface Config {
  readonly mode: Mode
  readonly upstream: {
    readonly url: string
    readonly connect_timeout: number
    readonly response_timeout: number
    readonly keepalive_timeout: number
    readonly max_connections: number
    readonly max_concurrent: number
    readonly max_queue: number
    readonly queue_timeout: number
    readonly host_header: 'preserve' | 'upstream'
    readonly health_path: string | null
    readonly insecure_skip_tls_verify: boolean
  }
  readonly listen: string
  /** Resolved: the mode default applied. */
  readonly workers: number
  readonly tls: {
    readonly cert_file: string
    readonly key_file: string
    readonly min_version: 'TLSv1.2' | 'TLSv1.3'
    readonly redirect_http_listen: string | null
  } | null
  readonly trusted_hosts: readonly string[]
  readonly trusted_proxies: readonly string[]
  /** Names lower-cased. */
  readonly request_headers: { readonly allow_underscores: readonly string[]; readonly strip: readonly string[] }
  readonly admin: { readonly listen: string; readonly token: string | null }
  readonly limits: {
    readonly max_header_bytes: number
    readonly max_url_length: number
    readonly max_body_bytes: number
    readonly header_timeout: number
    readonly body_timeout: number
    readonly allowed_methods: readonly string[]
    readonly method_override: boolean
  }
  readonly cors: {
    readonly allow_origins: readonly string[]
    readonly allow_methods: readonly string[]
    readonly allow_headers: readonly string[]
    readonly expose_headers: readonly string[]
    readonly allow_credentials: boolean
    readonly max_age: number
  } | null
  readonly headers: HeaderPolicy & {
    readonly profile: HeaderProfile
    readonly hsts: { readonly max_age: number; readonly include_subdomains: boolean; readonly preload: boolean }
  }
  readonly cookies: { readonly script_readable: readonly string[]; readonly allow_samesite_none: readonly string[] }
  readonly docs: { readonly paths: readonly string[]; readonly allow_ips: readonly string[]; readonly hidden: boolean }
  readonly error_masking: { readonly enabled: boolean; readonly max_inspect_bytes: number; readonly max_logged_bytes: number }
  readonly websocket: { readonly enabled: boolean; readonly require_origin: boolean }
  readonly routes: readonly RouteConfig[]
  readonly waf: {
    readonly enabled: boolean
    readonly mode: WafMode
    readonly paranoia: 1 | 2 | 3 | 4
    readonly threshold: number | null
    readonly inspect_body: boolean
    readonly limits: { readonly max_inputs: number; readonly max_bytes: number; readonly max_depth: number; readonly on_exceed: 'block' | 'allow' }
    readonly exclusions: readonly WafExclusion[]
  }
  readonly auth: AuthConfig | null
  readonly rate_limits: readonly RateLimitRule[]
  readonly storage: {
    readonly sqlite: { readonly path: string }
    readonly memory: boolean
    readonly postgres: PostgresConfig | null
    readonly redis: RedisConfig | null
  }
  readonly bans: BanConfig
  readonly logging: {
    readonly level: 'debug' | 'info' | 'warn' | 'error'
    readonly access_log: boolean
    readonly redact_fields: readonly string[]
  }
  readonly shutdown: { readonly drain_timeout: number }
  /** Where the file was read from (null for a config built in code). */
  readonly source: string | null
}

export interface AuthPolicy {
  readonly match: { readonly path: string; readonly methods?: readonly string[] }
  readonly access?: 'public' | 'authenticated'
  readonly roles?: readonly string[]
}

export interface AuthConfig {
  readonly prefix: string
  readonly issuer: string
  readonly audience: string
  readonly algorithm: 'EdDSA' | 'ES256'
  readonly access_ttl: number
  readonly refresh_ttl: number
  readonly refresh_grace: number
  readonly clock_skew: number
  /** Resolved secret text (32 bytes as hex or base64). */
  readonly key_encryption_key: string
  /** Absolute path of a JWK Set of private signing keys; null: keys generated and kept in the store. */
  readonly signing_keys_file: string | null
  /** Resolved: the mode default applied. */
  readonly registration: boolean
  readonly password: { readonly min_length: number; readonly max_length: number }
  readonly argon2: { readonly memory_kib: number; readonly iterations: number; readonly parallelism: number }
  /** Resolved: the mode default applied. */
  readonly default_policy: 'public' | 'authenticated'
  readonly policies: readonly AuthPolicy[]
  readonly revocation_check: boolean
  readonly forward_token: boolean
  readonly login_page: boolean
  readonly csrf: { readonly enabled: boolean }
  readonly brute_force: {
    readonly max_failures_per_account: number
    readonly max_failures_per_ip: number
    readonly window: number
    readonly lock_duration: number
    readonly base_delay: number
    readonly max_delay: number
  }
  /** `header` lower-cased. */
  readonly api_keys: { readonly header: string; readonly rotation_grace: number }
}

/** TLS to a store; files already resolved to absolute paths. */
export interface StoreTls {
  readonly mode: 'disable' | 'require' | 'verify-full'
  readonly ca_file: string | null
  readonly cert_file: string | null
  readonly key_file: string | null
}

export interface PostgresConfig {
  /** The resolved secret: holds the password, never logged. */
  readonly url: string
  readonly pool_size: number
  readonly connect_timeout: number
  readonly statement_timeout: number
  /** null: as the URL says (sslmode), else plain. */
  readonly tls: StoreTls | null
}

export interface RedisConfig {
  readonly url: string
  readonly key_prefix: string
  readonly connect_timeout: number
  readonly command_timeout: number
  /** null: TLS only for rediss:// URLs. */
  readonly tls: StoreTls | null
}

export interface BanConfig {
  readonly enabled: boolean
  readonly waf_blocks: number
  readonly failed_logins: number
  readonly window: number
  readonly duration: number
  readonly allow_ips: readonly string[]
}

export interface RateLimitRule {
  readonly name?: string
  readonly match?: { readonly path?: string; readonly methods?: readonly string[] }
  readonly key: 'ip' | 'user' | 'api_key' | { readonly header: string }
  /** "N/second|minute|hour|day". */
  readonly limit: string
  readonly burst?: number
  /** Send RateLimit-Policy/RateLimit on answers under the limit (default true). */
  readonly headers?: boolean
  /** Counter store unreachable: allow or deny (default: deny under the auth prefix, allow elsewhere). */
  readonly on_store_error?: 'allow' | 'deny'
}
