/** The event filter, for adapters that filter in code (memory). SQL adapters translate it. */
import type { EventQuery, StoredSecurityEvent } from './types.js'

export function matchesQuery(e: StoredSecurityEvent, q: EventQuery): boolean {
  if (q.before !== undefined && e.id >= q.before) return false
  if (q.category !== undefined && e.category !== q.category) return false
  if (q.rule !== undefined && e.rule !== q.rule) return false
  if (q.client_ip !== undefined && e.client_ip !== q.client_ip) return false
  if (q.action !== undefined && e.action !== q.action) return false
  if (q.request_id !== undefined && e.request_id !== q.request_id) return false
  if (q.since !== undefined && e.time < q.since) return false
  if (q.until !== undefined && e.time > q.until) return false
  return true
}
