/** All identity stores on one PostgreSQL pool (several instances share them). */
import type { IdentityStores } from '../types.js'
import type { PostgresDb } from './database.js'
import { PostgresUserStore } from './users.js'
import { PostgresRefreshStore } from './refresh.js'
import { PostgresApiKeyStore } from './api-keys.js'
import { PostgresKeyStore } from './keys.js'
import { PostgresThrottleStore } from './throttle.js'

/** `owned`: close the pool with the stores. */
export function postgresIdentityStores(db: PostgresDb, owned: boolean): IdentityStores {
  return {
    users: new PostgresUserStore(db),
    refresh: new PostgresRefreshStore(db),
    apiKeys: new PostgresApiKeyStore(db),
    keys: new PostgresKeyStore(db),
    throttle: new PostgresThrottleStore(db),
    async close() {
      if (owned) await db.close()
    },
  }
}
