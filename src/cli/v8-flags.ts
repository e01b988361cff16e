/**
 * V8 flags for the gateway process, set before anything else is loaded: bin/drawbridge.js
 * imports this module first, and cluster workers run the same file.
 *
 * --no-allocation-site-pretenuring: V8 watches how many objects from each object or array
 * literal survive a young-generation collection and, past 85%, allocates that literal's objects
 * straight in the old generation. In a proxy almost nothing made per request outlives it, but a
 * few literals inside node and undici are shared with long-lived objects (timers, sockets) and
 * get "tenured" after start-up. Their per-request objects then sit in the old generation, dead
 * yet holding pointers into the young one, so every young collection keeps (and promotes) the
 * request graphs they point at: Drawbridge promoted ~280 KB per scavenge at 5,000 GET/s instead
 * of ~40 KB, which filled the old generation and brought a full mark-compact every few seconds
 * with 10-40 ms pauses (docs/performance.md). Throughput under full load is unchanged.
 */
import { setFlagsFromString } from 'node:v8'

export const v8Flags: readonly string[] = ['--no-allocation-site-pretenuring']

for (const flag of v8Flags) setFlagsFromString(flag)
