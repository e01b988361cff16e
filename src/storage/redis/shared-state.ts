/**
 * The shared state of instances that share one Redis (`storage.redis`): counters, notices, locks
 * and failed-login counters there, on every machine. Nothing waits here (see `connect`).
 */
import type { RedisConfig } from '../../config/types.js'
import type { SharedState } from '../types.js'
import { createRedis, connectRedis, probeRedis } from './client.js'
import { RedisNotices } from './notices.js'
import { RedisLocks } from './locks.js'
import { RedisThrottleStore } from './throttle.js'
import { redisLimiters } from './limiters.js'

/** `onState`: called when the connection goes down or comes back (for the log). */
export function redisSharedState(r: RedisConfig, onState?: (state: 'ready' | 'down', detail: string) => void): SharedState {
  const client = createRedis(r)
  let up = false
  let closing = false
  client.on('ready', () => {
    up = true
    onState?.('ready', '')
  })
  client.on('error', (err: Error) => {
    if (up && !closing) onState?.('down', (err as NodeJS.ErrnoException).code ?? err.constructor.name)
    up = false
  })
  client.on('close', () => {
    if (up && !closing) onState?.('down', 'connection closed')
    up = false
  })
  const notices = new RedisNotices(client, r.key_prefix)
  return {
    kind: 'redis',
    limiter: redisLimiters(client, r.key_prefix),
    notices,
    locks: new RedisLocks(client, r.key_prefix),
    throttle: new RedisThrottleStore(client, r.key_prefix),
    probe: async () => {
      const answer = await probeRedis(client, Math.min(r.command_timeout, 2000))
      // Answering is not enough: an instance that hears no notices misses bans and revocations.
      return answer.ok && !notices.isListening ? { ok: false, error: 'notices not subscribed' } : answer
    },
    async connect() {
      const connected = await connectRedis(client, r.connect_timeout)
      if (!connected) onState?.('down', 'not reachable at start-up')
      else await notices.listening(r.connect_timeout)
      return connected
    },
    async close() {
      closing = true
      await notices.close()
      await client.quit().catch(() => client.disconnect())
    },
  }
}
