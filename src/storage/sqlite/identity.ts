/** All identity stores on one SQLite database (the embedded default). */
import type { IdentityStores } from '../types.js'
import type { SqliteDb } from './database.js'
import { SqliteUserStore } from './users.js'
import { SqliteRefreshStore } from './refresh.js'
import { SqliteApiKeyStore } from './api-keys.js'
import { SqliteKeyStore } from './keys.js'
import { SqliteThrottleStore } from './throttle.js'

/** `owned`: close the database with the stores. */
export function sqliteIdentityStores(db: SqliteDb, owned: boolean): IdentityStores {
  return {
    users: new SqliteUserStore(db),
    refresh: new SqliteRefreshStore(db),
    apiKeys: new SqliteApiKeyStore(db),
    keys: new SqliteKeyStore(db),
    throttle: new SqliteThrottleStore(db),
    async close() {
      if (owned && db.open) db.close()
    },
  }
}
