/**
 * The one source of truth for `drawbridge.yaml`: JSON Schema with defaults inside,
 * `additionalProperties: false` everywhere, a description on every field. `types.ts` mirrors it.
 */

/** A duration's form; each setting that takes one says what it is for. */
const durationSchema = (units: string, maxMs: number) =>
  ({
    anyOf: [
      { type: 'string', pattern: `^[0-9]{1,9}(${units})$` },
      { type: 'integer', minimum: 0, maximum: maxMs },
    ],
  }) as const

/** "500ms", "10s", "2m", "1h", or a whole number of milliseconds. */
const duration = durationSchema('ms|s|m|h', 86_400_000)
/** Durations that may run to days (token and key lifetimes). */
const longDuration = durationSchema('ms|s|m|h|d', 31_536_000_000)

const secretRef = {
  description: 'A secret, never inline: { from_env: NAME } or { from_file: PATH }.',
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['from_env'],
      properties: { from_env: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' } },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['from_file'],
      properties: { from_file: { type: 'string', minLength: 1 } },
    },
  ],
} as const

const stringList = (description: string, def: readonly string[] = []) =>
  ({ description, type: 'array', items: { type: 'string', minLength: 1 }, default: [...def] }) as const

/** An HTTP field name (RFC 9110 §5.1: a token). */
const headerName = { type: 'string', pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" } as const

/**
 * Headers some apps and frameworks take as the request's URL or client address (Symfony and
 * IIS rewrites, proxy-aware IP lookups): an attacker's copy would bypass path rules or forge the
 * client IP, so none reaches the app unless configured.
 */
const strippedByDefault = [
  // the URL, its prefix, host or scheme as a rewriting proxy would state them
  'X-Original-URL',
  'X-Original-URI',
  'X-Rewrite-URL',
  'X-Forwarded-Prefix',
  'X-Forwarded-Path',
  'X-Forwarded-Uri',
  'X-Forwarded-Port',
  'X-Forwarded-Server',
  'X-Forwarded-Scheme',
  'X-Forwarded-Ssl',
  'Front-End-Https',
  'X-Url-Scheme',
  'X-Host',
  'X-Original-Host',
  'X-HTTP-Host-Override',
  // the client address as a CDN or load balancer would state it
  'True-Client-IP',
  'CF-Connecting-IP',
  'Fastly-Client-IP',
  'X-Client-IP',
  'X-Cluster-Client-IP',
  'Client-IP',
  'X-Originating-IP',
  'X-Remote-IP',
  'X-Remote-Addr',
  'X-ProxyUser-IP',
  'X-Envoy-External-Address',
]

const methodName = { type: 'string', pattern: '^[A-Z][A-Z0-9_-]{0,31}$' } as const

const headerMap = {
  description: 'Response headers to set (name: value); they replace what the upstream sent.',
  type: 'object',
  propertyNames: { pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" },
  additionalProperties: { type: 'string' },
} as const

const headerOverrides = {
  description: 'Response header policy for matching routes.',
  type: 'object',
  additionalProperties: false,
  properties: {
    profile: { description: 'Built-in header set: api (JSON APIs), html (pages), docs (API docs UIs).', enum: ['api', 'html', 'docs'] },
    set: headerMap,
    remove: stringList('Response headers to remove.'),
  },
} as const

const matchProperties = {
  path: { description: 'A prefix on segment boundaries (/api) or a glob (* one segment, ** any).', type: 'string', pattern: '^/' },
  methods: { description: 'Methods it applies to (default: all); a list naming GET covers HEAD too.', type: 'array', items: methodName, minItems: 1 },
} as const

/** Which requests a route, policy or rule applies to. */
const routeMatch = {
  description: 'Which requests this entry applies to: a path, and optionally methods.',
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: matchProperties,
} as const

/** TLS to a store (PostgreSQL, Redis): files are PEM, relative to the configuration file's folder. */
const tlsClient = (description: string, modes: readonly string[]) =>
  ({
    description,
    type: 'object',
    additionalProperties: false,
    properties: {
      mode: {
        description:
          'require: encrypted, certificate not checked (as libpq sslmode=require); verify-full: certificate and host name checked against ca_file or the system CAs (the default once tls is set).',
        enum: [...modes],
      },
      ca_file: { description: 'CA bundle that signs the server certificate.', type: 'string', minLength: 1 },
      cert_file: { description: 'Client certificate (mutual TLS).', type: 'string', minLength: 1 },
      key_file: { description: 'Client private key (mutual TLS).', type: 'string', minLength: 1 },
    },
  }) as const

const wafMode = { description: 'block: refuse detected attacks (403); detect: only log them.', enum: ['block', 'detect'] } as const
const paranoia = {
  description: 'Detection paranoia 1-4: higher catches weaker signals and blocks more legitimate traffic.',
  type: 'integer',
  minimum: 1,
  maximum: 4,
} as const

export const configSchema = {
  $id: 'https://drawbridge.dev/schema/config.json',
  type: 'object',
  additionalProperties: false,
  required: ['upstream'],
  properties: {
    mode: {
      description: 'production hides docs, masks upstream errors and runs one worker per CPU by default.',
      enum: ['production', 'development'],
      default: 'production',
    },
    upstream: {
      description: 'The app behind Drawbridge. A URL string is shorthand for { url }.',
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: {
        url: { description: 'http(s)://host:port of the upstream app: an origin, without path, query or credentials.', type: 'string', minLength: 1 },
        connect_timeout: { ...duration, description: 'Time allowed to open a connection to the upstream (then 504); /readyz waits at most 2s.', default: '5s' },
        response_timeout: { ...duration, description: 'Time allowed for the upstream to send response headers (then 504).', default: '60s' },
        keepalive_timeout: {
          ...duration,
          description: "Idle keep-alive connections are closed after this; keep it below the upstream's own (uvicorn: 5s).",
          default: '4s',
        },
        max_connections: { description: 'Connections in the upstream pool.', type: 'integer', minimum: 1, maximum: 65_536, default: 128 },
        max_concurrent: {
          description: 'Requests in flight to the upstream at once; more wait in the queue.',
          type: 'integer',
          minimum: 1,
          maximum: 1_000_000,
          default: 1024,
        },
        max_queue: {
          description: 'Requests that may wait for a slot; beyond it: 503 with Retry-After.',
          type: 'integer',
          minimum: 0,
          maximum: 1_000_000,
          default: 1024,
        },
        queue_timeout: { ...duration, description: 'Longest wait in the queue (then 503).', default: '10s' },
        host_header: {
          description: 'preserve: forward the client Host; upstream: use the upstream URL host.',
          enum: ['preserve', 'upstream'],
          default: 'preserve',
        },
        health_path: {
          description: 'Path probed by /readyz; without it /readyz opens a TCP connection.',
          type: ['string', 'null'],
          pattern: '^/',
          default: null,
        },
        insecure_skip_tls_verify: { description: 'DANGEROUS: accept any upstream TLS certificate.', type: 'boolean', default: false },
      },
    },
    listen: { description: 'HOST:PORT of the client listener.', type: 'string', default: '127.0.0.1:8080' },
    workers: {
      description: 'Processes sharing the port (node:cluster); default 1 in development, CPUs in production.',
      type: ['integer', 'null'],
      minimum: 1,
      maximum: 256,
      default: null,
    },
    tls: {
      description: 'Serve HTTPS on `listen` with these files.',
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['cert_file', 'key_file'],
      default: null,
      properties: {
        cert_file: {
          description: 'Certificate chain, PEM; a relative path is read from the working directory. Re-read on reload.',
          type: 'string',
          minLength: 1,
        },
        key_file: { description: 'Private key of the certificate, PEM; a relative path is read from the working directory.', type: 'string', minLength: 1 },
        min_version: { description: 'Oldest TLS version accepted.', enum: ['TLSv1.2', 'TLSv1.3'], default: 'TLSv1.2' },
        redirect_http_listen: {
          description: 'Optional HOST:PORT of a plain-HTTP listener that answers 308 to HTTPS (trusted hosts only).',
          type: ['string', 'null'],
          default: null,
        },
      },
    },
    trusted_hosts: stringList('Allowed Host names; "*.example.com" matches subdomains. Others get 400.', ['localhost', '127.0.0.1', '[::1]']),
    trusted_proxies: stringList('CIDRs whose X-Forwarded-* and X-Request-ID headers are believed. Default: none.'),
    request_headers: {
      description: 'Which client request headers reach the upstream (those Drawbridge sets or consumes never do).',
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        allow_underscores: {
          ...stringList(
            'Header names containing "_" that are forwarded anyway (case-insensitive). Others are dropped, like nginx\'s underscores_in_headers off: WSGI, CGI, Rack and PHP read "_" as "-", so X_Forwarded_For or SCRIPT_NAME would pass for headers the app trusts. A name that reads as one Drawbridge manages is still never forwarded.',
          ),
          items: headerName,
        },
        strip: {
          ...stringList(
            'Request headers never forwarded: URL-rewrite and client-address headers that proxy-aware apps believe. X-Forwarded-Prefix, -Port and -Server in this list still pass from trusted_proxies.',
            strippedByDefault,
          ),
          items: headerName,
        },
      },
    },
    admin: {
      description: 'The admin listener: /healthz, /readyz, /metrics, /api/events. Its Host must be a loopback name.',
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        listen: {
          description: 'HOST:PORT of the admin listener, or "off". A non-loopback address is warned about at start.',
          type: 'string',
          default: '127.0.0.1:9090',
        },
        token: { ...secretRef, description: 'Bearer token required for /metrics and /api/events (health checks stay open).' },
      },
    },
    limits: {
      description: 'Request size limits, timeouts, and the methods accepted at all.',
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        max_header_bytes: {
          description: 'Total size of request line and headers (then 431). Needs a restart to change.',
          type: 'integer',
          minimum: 1024,
          maximum: 1_048_576,
          default: 16_384,
        },
        max_url_length: { description: 'Longest request target (then 414).', type: 'integer', minimum: 64, maximum: 1_048_576, default: 8192 },
        max_body_bytes: { description: 'Largest request body (then 413), enforced while streaming.', type: 'integer', minimum: 0, default: 1_048_576 },
        header_timeout: { ...duration, description: 'Time to receive the request headers (then 408).', default: '10s' },
        body_timeout: { ...duration, description: 'Time to receive the whole request body (then 408).', default: '30s' },
        allowed_methods: {
          description: 'Methods accepted at all (others: 405).',
          type: 'array',
          items: methodName,
          default: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
        },
        method_override: {
          description:
            'Whether the app honours X-HTTP-Method-Override, X-HTTP-Method and X-Method-Override on POST. false: those headers are removed before the app sees them. true: a POST is judged (route policies, CSRF, rate limits, routes) by the method they name and forwarded as sent; on other methods they are removed.',
          type: 'boolean',
          default: false,
        },
      },
    },
    cors: {
      description: 'CORS answered at the edge. Without it, no CORS headers are sent and preflights get 403.',
      type: ['object', 'null'],
      additionalProperties: false,
      default: null,
      properties: {
        allow_origins: stringList(
          'Exact origins (https://app.example.com), patterns (https://*.example.com), or "*" (not with allow_credentials). Also the origins allowed to open WebSockets and to pass the CSRF Origin check.',
        ),
        allow_methods: {
          description: 'Methods a cross-origin request may use.',
          type: 'array',
          items: methodName,
          default: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
        },
        allow_headers: stringList('Request headers a cross-origin request may send.', [
          'Accept',
          'Accept-Language',
          'Content-Language',
          'Content-Type',
          'Authorization',
          'X-Requested-With',
          'X-CSRF-Token',
          'X-Request-ID',
        ]),
        expose_headers: stringList('Response headers scripts may read.', ['X-Request-ID']),
        allow_credentials: {
          description: 'Let cross-origin requests carry cookies and credentials (Access-Control-Allow-Credentials).',
          type: 'boolean',
          default: false,
        },
        max_age: { description: 'Seconds a browser may cache a preflight.', type: 'integer', minimum: 0, maximum: 86_400, default: 600 },
      },
    },
    headers: {
      description: 'Response hardening for every route (routes may override).',
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        ...headerOverrides.properties,
        profile: { ...headerOverrides.properties.profile, default: 'api' },
        hsts: {
          description: 'Strict-Transport-Security, sent on HTTPS connections only.',
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            max_age: { description: 'Seconds a browser keeps to HTTPS for this host.', type: 'integer', minimum: 0, default: 31_536_000 },
            include_subdomains: { description: 'Add includeSubDomains.', type: 'boolean', default: true },
            preload: { description: "Add preload (once the domain is on the browsers' preload list).", type: 'boolean', default: false },
          },
        },
      },
    },
    cookies: {
      description: 'Hardening of upstream Set-Cookie headers.',
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        script_readable: stringList('Cookie names that keep script access (no HttpOnly added).'),
        allow_samesite_none: stringList('Cookie names allowed to keep SameSite=None (otherwise made Lax).'),
      },
    },
    docs: {
      description: 'API documentation endpoints, hidden (404) in production.',
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        paths: stringList('Paths of the docs endpoints.', ['/docs', '/redoc', '/openapi.json', '/docs/oauth2-redirect']),
        allow_ips: stringList('CIDRs that may see the docs in production.'),
        hide: { description: 'auto: hidden in production only.', enum: ['auto', 'always', 'never'], default: 'auto' },
      },
    },
    error_masking: {
      description: 'Replace upstream 5xx stack traces and debug pages by a generic error.',
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { description: 'auto: on in production.', enum: ['auto', 'on', 'off'], default: 'auto' },
        max_inspect_bytes: {
          description: 'Largest upstream 5xx body inspected; a larger one is masked (fail closed).',
          type: 'integer',
          minimum: 1024,
          maximum: 16_777_216,
          default: 262_144,
        },
        max_logged_bytes: { description: 'Bytes of a masked body written to the log, redacted.', type: 'integer', minimum: 0, maximum: 65_536, default: 2048 },
      },
    },
    websocket: {
      description: 'WebSocket upgrades, proxied after the same checks as any request; the Origin must be the same origin or in cors.allow_origins.',
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { description: 'Accept WebSocket upgrades (false: 400).', type: 'boolean', default: true },
        require_origin: { description: 'Refuse upgrades without an Origin header (non-browser clients send none).', type: 'boolean', default: false },
      },
    },
    routes: {
      description: 'Per-route settings; the first match wins.',
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['match'],
        properties: {
          name: { description: 'Label used in metrics and logs.', type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
          match: routeMatch,
          max_body_bytes: { description: 'Overrides limits.max_body_bytes on this route.', type: 'integer', minimum: 0 },
          body_timeout: { ...duration, description: 'Overrides limits.body_timeout on this route.' },
          response_timeout: { ...duration, description: 'Overrides upstream.response_timeout on this route.' },
          request_buffering: {
            description:
              'Buffer chunked bodies up to the limit before forwarding, so the app gets a Content-Length (default true; false streams them, cut at the limit).',
            type: 'boolean',
          },
          headers: headerOverrides,
          waf: {
            description: 'WAF settings for this route.',
            type: 'object',
            additionalProperties: false,
            properties: {
              enabled: { description: 'Overrides waf.enabled on this route.', type: 'boolean' },
              mode: wafMode,
              paranoia,
              inspect_body: { description: 'Overrides waf.inspect_body on this route.', type: 'boolean' },
            },
          },
        },
      },
    },
    waf: {
      description: 'The detection engine: SQL injection, XSS, command injection, traversal, SSRF and the rest.',
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { description: 'Inspect requests for attacks (false is warned about at start).', type: 'boolean', default: true },
        mode: { ...wafMode, default: 'block' },
        paranoia: { ...paranoia, default: 1 },
        threshold: {
          description: "Overrides the paranoia level's score threshold (0.5-1).",
          type: ['number', 'null'],
          minimum: 0.5,
          maximum: 1,
          default: null,
        },
        inspect_body: { description: 'Buffer and inspect request bodies (JSON, forms, multipart, XML, text).', type: 'boolean', default: true },
        limits: {
          description: 'How much of one request the WAF inspects.',
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            max_inputs: {
              description: 'Parameters, headers, cookies and body fields (and JSON keys) inspected per request.',
              type: 'integer',
              minimum: 16,
              maximum: 1_000_000,
              default: 10_000,
            },
            max_bytes: {
              description: 'Bytes of names and values inspected per request.',
              type: 'integer',
              minimum: 1024,
              maximum: 67_108_864,
              default: 1_048_576,
            },
            max_depth: { description: 'Nesting depth of JSON and XML bodies.', type: 'integer', minimum: 1, maximum: 1024, default: 32 },
            on_exceed: {
              description: 'block: refuse a request past a limit (403); allow: inspect what fits and pass.',
              enum: ['block', 'allow'],
              default: 'block',
            },
          },
        },
        exclusions: {
          description: 'Findings to ignore, scoped by path, method, input location and name, and rule id or category.',
          type: 'array',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['rules'],
            properties: {
              path: {
                description: 'Path pattern, as in routes[].match.path, matched in the case it is written in (default: every path).',
                type: 'string',
                pattern: '^/',
              },
              methods: { description: 'Methods it applies to (default: all).', type: 'array', items: methodName, minItems: 1 },
              location: { description: 'Where the input is (default: anywhere).', enum: ['path', 'query', 'header', 'cookie', 'body'] },
              name: { description: 'Input name; "*" matches any run of characters (items.*.code).', type: 'string', minLength: 1 },
              rules: {
                description: 'Rule ids (sqli-union) or categories (sqli); "*" for all.',
                type: 'array',
                items: { type: 'string', minLength: 1 },
                minItems: 1,
              },
            },
          },
        },
      },
    },
    auth: {
      description: 'Identity at the edge: accounts, tokens, route policies, CSRF, API keys. Absent: no authentication.',
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['key_encryption_key'],
      default: null,
      properties: {
        prefix: {
          description: 'Where the auth endpoints live (login, refresh, logout, me, csrf, register, jwks).',
          type: 'string',
          pattern: '^/[A-Za-z0-9._~/-]*[A-Za-z0-9._~-]$',
          default: '/auth',
        },
        issuer: { description: 'JWT `iss` of access tokens.', type: 'string', minLength: 1, default: 'drawbridge' },
        audience: { description: 'JWT `aud` of access tokens.', type: 'string', minLength: 1, default: 'drawbridge' },
        algorithm: { description: 'Signing algorithm of access tokens.', enum: ['EdDSA', 'ES256'], default: 'EdDSA' },
        access_ttl: { ...longDuration, description: 'Life of an access token.', default: '15m' },
        refresh_ttl: { ...longDuration, description: 'Life of a session (refresh-token family).', default: '7d' },
        refresh_grace: { ...longDuration, description: 'A concurrent refresh from the same client within this time gets the same new pair.', default: '10s' },
        clock_skew: { ...longDuration, description: 'Tolerance for clocks of other instances when checking exp/iat.', default: '10s' },
        key_encryption_key: { ...secretRef, description: 'Encrypts signing keys and secrets at rest: 32 bytes, hex or base64 (drawbridge init writes one).' },
        signing_keys_file: {
          description:
            'A JWK Set of private signing keys (EdDSA/ES256, each with kid and alg) instead of generated ones: the last signs, all verify; re-read every minute.',
          type: ['string', 'null'],
          minLength: 1,
          default: null,
        },
        registration: { description: 'POST {prefix}/register; auto: on in development, off in production.', enum: ['auto', 'on', 'off'], default: 'auto' },
        password: {
          description: 'Password policy, applied to new passwords (registration, users add, reset-password).',
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            min_length: { description: 'Fewest characters (not above max_length).', type: 'integer', minimum: 8, maximum: 128, default: 12 },
            max_length: { description: 'Most characters.', type: 'integer', minimum: 16, maximum: 1024, default: 128 },
          },
        },
        argon2: {
          description: "argon2id parameters; the defaults are OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).",
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            memory_kib: {
              description: 'Memory per hash, in KiB; hashes made with other parameters are redone at the next login.',
              type: 'integer',
              minimum: 8192,
              maximum: 4_194_304,
              default: 19_456,
            },
            iterations: { description: 'Passes over the memory.', type: 'integer', minimum: 1, maximum: 64, default: 2 },
            parallelism: { description: 'Lanes.', type: 'integer', minimum: 1, maximum: 64, default: 1 },
          },
        },
        default_policy: {
          description: 'For routes no policy matches; auto: authenticated in production, public in development.',
          enum: ['auto', 'public', 'authenticated'],
          default: 'auto',
        },
        policies: {
          description:
            "Route policies, first match wins: { match, access: public|authenticated } or { match, roles: [...] } (API keys' scopes count as roles).",
          type: 'array',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['match'],
            properties: {
              match: routeMatch,
              access: {
                description: 'public: no credentials needed; authenticated: any signed-in caller. Give access or roles, not both.',
                enum: ['public', 'authenticated'],
              },
              roles: {
                description: 'Any one of these roles (or API-key scopes) is required (else 403).',
                type: 'array',
                items: { type: 'string', minLength: 1 },
                minItems: 1,
              },
            },
          },
        },
        revocation_check: {
          description: 'Check every access token against the store (disabled users, ended sessions) instead of trusting it for its short life.',
          type: 'boolean',
          default: false,
        },
        forward_token: {
          description: 'Send the verified access token to the upstream in X-Drawbridge-Token (it can check it against the JWKS).',
          type: 'boolean',
          default: true,
        },
        login_page: { description: 'Redirect HTML navigations without a session to the built-in login page.', type: 'boolean', default: true },
        csrf: {
          description: 'CSRF protection of cookie sessions.',
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: { enabled: { description: 'CSRF tokens and Origin checks for cookie sessions (unsafe methods).', type: 'boolean', default: true } },
        },
        brute_force: {
          description: 'Failed-login throttling, per account and per client IP (an IPv6 client by its /64).',
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            max_failures_per_account: {
              description: 'Failures within the window that lock an account (unknown names too).',
              type: 'integer',
              minimum: 1,
              maximum: 1000,
              default: 5,
            },
            max_failures_per_ip: {
              description: 'Failures within the window that lock a client IP.',
              type: 'integer',
              minimum: 1,
              maximum: 100_000,
              default: 20,
            },
            window: { ...longDuration, description: 'Period failures are counted over.', default: '15m' },
            lock_duration: { ...longDuration, description: 'How long a locked account or IP is refused (429 with Retry-After).', default: '15m' },
            base_delay: { ...longDuration, description: 'Wait after the third failure of an account, doubled each further failure.', default: '1s' },
            max_delay: { ...longDuration, description: 'Longest wait between attempts at one account.', default: '30s' },
          },
        },
        api_keys: {
          description: 'API keys, made with drawbridge apikeys.',
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            header: {
              description: 'Header that carries an API key (Authorization: Bearer works too).',
              type: 'string',
              pattern: '^[A-Za-z0-9-]+$',
              default: 'X-API-Key',
            },
            rotation_grace: { ...longDuration, description: 'How long a rotated key keeps working.', default: '7d' },
          },
        },
      },
    },
    rate_limits: {
      description: 'Rate-limit rules: every matching rule counts the request; the strictest answers (429).',
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'limit'],
        properties: {
          name: {
            description: 'Policy name in RateLimit headers, logs and metrics; it names the shared counters, so it is unique (default rule_<index>).',
            type: 'string',
            pattern: '^[A-Za-z0-9_-]{1,64}$',
          },
          // path optional here: a rule without one counts every path
          match: {
            description: 'Which requests the rule counts: a path, methods, or both (default: every request).',
            type: 'object',
            additionalProperties: false,
            properties: matchProperties,
          },
          key: {
            description:
              'ip (an IPv6 address by its /64), user (signed-in callers only), api_key (API-key callers only), or { header: NAME } (requests carrying it only).',
            anyOf: [
              { enum: ['ip', 'user', 'api_key'] },
              {
                type: 'object',
                additionalProperties: false,
                required: ['header'],
                properties: { header: { type: 'string', pattern: '^[A-Za-z0-9-]{1,64}$' } },
              },
            ],
          },
          limit: {
            description: 'Requests per window: "5/minute", "100/second", "1000/hour", "10000/day".',
            type: 'string',
            pattern: '^[1-9][0-9]{0,8} */ *(second|minute|hour|day)$',
          },
          burst: {
            description: 'Up to this many in one window; the extra above limit comes from an allowance refilled over ten windows.',
            type: 'integer',
            minimum: 1,
            maximum: 1_000_000_000,
          },
          headers: { description: 'RateLimit-Policy/RateLimit on answers under the limit too (default true).', type: 'boolean' },
          on_store_error: { description: 'When the counter store is unreachable; default deny under auth.prefix, allow elsewhere.', enum: ['allow', 'deny'] },
        },
      },
    },
    storage: {
      description: 'Where security events, users, sessions, keys and shared counters live: one SQLite file by default.',
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        sqlite: {
          description: 'The embedded default: one SQLite file (WAL), shared by --workers on one machine.',
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            path: { description: "Database file, relative to the configuration file's folder.", type: 'string', minLength: 1, default: 'drawbridge.db' },
          },
        },
        memory: {
          description: 'Keep state in process memory only (tests, benchmarks): lost on restart, not shared between workers.',
          type: 'boolean',
          default: false,
        },
        postgres: {
          description: 'Several instances: users, API keys, signing keys, refresh families and security events in PostgreSQL (replaces SQLite).',
          type: 'object',
          additionalProperties: false,
          required: ['url'],
          properties: {
            url: {
              ...secretRef,
              description:
                'postgres://user:password@host:5432/db. Without tls, sslmode in the URL is read as libpq reads it (prefer and allow refused); with tls, ssl parameters in the URL are an error.',
            },
            pool_size: {
              description: 'Connections per process for users, sessions and keys; security events use up to 2 more.',
              type: 'integer',
              minimum: 1,
              maximum: 100,
              default: 10,
            },
            connect_timeout: { ...duration, description: 'A connection not made in time (the pool exhausted as well) is a store error.', default: '5s' },
            statement_timeout: { ...duration, description: 'Set on the server for every statement; the client gives up 1s later.', default: '5s' },
            tls: tlsClient("TLS to PostgreSQL. Without it, the URL's sslmode decides.", ['disable', 'require', 'verify-full']),
          },
        },
        redis: {
          description: 'Several instances: rate-limit counters, bans, login throttling, revocation notices and refresh single-flight locks in Redis.',
          type: 'object',
          additionalProperties: false,
          required: ['url'],
          properties: {
            url: { ...secretRef, description: 'redis://[user:password@]host:6379[/db], or rediss:// for TLS.' },
            key_prefix: {
              description: 'Prefix of every key Drawbridge writes (several deployments may share one Redis).',
              type: 'string',
              pattern: '^[A-Za-z0-9:_.-]{1,64}$',
              default: 'drawbridge:',
            },
            connect_timeout: {
              ...duration,
              description:
                'How long start-up waits for the first connection (then it starts without Redis and picks it up later), and each connection attempt.',
              default: '2s',
            },
            command_timeout: { ...duration, description: 'A command not answered in time is a store error.', default: '500ms' },
            tls: tlsClient(
              'TLS to Redis. Without it (or with mode disable), TLS only for rediss:// URLs, with the certificate checked against the system CAs.',
              ['disable', 'require', 'verify-full'],
            ),
          },
        },
      },
    },
    bans: {
      description:
        'Automatic bans (off by default): a client IP that collects too many WAF blocks or failed logins within a window is refused for a while (shared through Redis when configured).',
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { description: 'Turn automatic bans on.', type: 'boolean', default: false },
        waf_blocks: { description: 'WAF blocks within the window that ban an IP (0: never).', type: 'integer', minimum: 0, maximum: 1_000_000, default: 20 },
        failed_logins: {
          description: 'Failed logins within the window that ban an IP (0: never).',
          type: 'integer',
          minimum: 0,
          maximum: 1_000_000,
          default: 20,
        },
        window: { ...longDuration, description: 'Period offences are counted over.', default: '10m' },
        duration: { ...longDuration, description: 'How long a ban lasts (403 banned with Retry-After).', default: '1h' },
        allow_ips: stringList('Addresses or CIDRs never banned (health checkers, your own offices).'),
      },
    },
    logging: {
      description: 'JSON lines on stdout.',
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        level: { description: 'Lowest level written.', enum: ['debug', 'info', 'warn', 'error'], default: 'info' },
        access_log: { description: 'One line per request.', type: 'boolean', default: true },
        redact_fields: stringList(
          'Query/body field names whose values are never logged, on top of built-in credential names: case-insensitive substrings, with - _ . ignored (api_key also matches api-key and apikey).',
          ['password', 'passwd', 'token', 'secret', 'api_key', 'apikey', 'authorization', 'session'],
        ),
      },
    },
    shutdown: {
      description: 'Graceful stop on SIGTERM and SIGINT.',
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        drain_timeout: { ...duration, description: 'How long SIGTERM waits for in-flight requests.', default: '15s' },
      },
    },
  },
} as const
