/** The programmatic API: what a Node.js program needs to run Drawbridge itself, without the CLI. */
export { createGateway } from './gateway/index.js'
export type { Gateway, GatewayAddresses, GatewayOptions } from './gateway/index.js'
export { loadConfig, configWarnings } from './config/load.js'
export type { Config } from './config/types.js'
export { ConfigInvalid, DrawbridgeError } from './errors.js'
export type { ConfigIssue, DrawbridgeErrorCode } from './errors.js'
export { Logger } from './observability/logger.js'
