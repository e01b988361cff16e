/**
 * Prometheus metrics (text exposition format 0.0.4). Counters and histograms keep plain data so
 * that worker processes can send a snapshot to the primary, which adds them up (--workers).
 */

const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

interface HistogramData {
  counts: number[]
  sum: number
  count: number
}

export interface MetricsSnapshot {
  counters: Record<string, Record<string, number>>
  histograms: Record<string, Record<string, HistogramData>>
}

const help: Record<string, [string, 'counter' | 'histogram']> = {
  drawbridge_requests_total: ['Requests answered, by status and route.', 'counter'],
  drawbridge_request_duration_seconds: ['Time from request head to the end of the response, by route.', 'histogram'],
  drawbridge_upstream_duration_seconds: ['Time until the upstream sent response headers, by route.', 'histogram'],
  drawbridge_rejections_total: ['Requests stopped by Drawbridge, by stage and reason.', 'counter'],
  drawbridge_upstream_errors_total: ['Upstream failures, by kind.', 'counter'],
  drawbridge_masked_errors_total: ['Upstream error pages replaced by a generic error.', 'counter'],
  drawbridge_waf_detections_total: ['WAF findings at or above the threshold, by category and action (blocked or logged).', 'counter'],
  drawbridge_auth_events_total: ['Auth security events (failed logins, lockouts, refresh token reuse), by rule and action.', 'counter'],
  drawbridge_security_events_dropped_total: ['Security events not stored (queue full or store error); they were still logged.', 'counter'],
  drawbridge_store_errors_total: ['Decisions taken while a shared store was unreachable, by store, operation and decision (allow or deny).', 'counter'],
  drawbridge_bans_total: ['Client IPs banned by this instance, by reason (waf or login).', 'counter'],
  drawbridge_uncaught_exceptions_total: [
    'Exceptions and promise rejections no handler caught, by kind (connection: served on; fatal: the process drained and exited).',
    'counter',
  ],
  drawbridge_dropped_headers_total: ['Request headers not forwarded to the upstream although no rule refused the request, by reason (underscore).', 'counter'],
}

export class Metrics {
  readonly #counters = new Map<string, Map<string, number>>()
  readonly #histograms = new Map<string, Map<string, HistogramData>>()

  /** `labels` is a preformatted label set such as `status="200",route="default"`. */
  inc(name: string, labels: string, by = 1): void {
    let m = this.#counters.get(name)
    if (m === undefined) this.#counters.set(name, (m = new Map<string, number>()))
    m.set(labels, (m.get(labels) ?? 0) + by)
  }

  observe(name: string, labels: string, seconds: number): void {
    let m = this.#histograms.get(name)
    if (m === undefined) this.#histograms.set(name, (m = new Map<string, HistogramData>()))
    let h = m.get(labels)
    if (h === undefined) m.set(labels, (h = { counts: new Array<number>(latencyBuckets.length).fill(0), sum: 0, count: 0 }))
    for (let i = 0; i < latencyBuckets.length; i++) {
      if (seconds <= latencyBuckets[i]!) {
        h.counts[i]!++
        break
      }
    }
    h.sum += seconds
    h.count++
  }

  snapshot(): MetricsSnapshot {
    const counters: MetricsSnapshot['counters'] = {}
    for (const [name, m] of this.#counters) counters[name] = Object.fromEntries(m)
    const histograms: MetricsSnapshot['histograms'] = {}
    for (const [name, m] of this.#histograms) {
      histograms[name] = {}
      for (const [l, h] of m) histograms[name][l] = { counts: [...h.counts], sum: h.sum, count: h.count }
    }
    return { counters, histograms }
  }

  /** Sums snapshots (one per worker) into one exposition. */
  static render(snapshots: readonly MetricsSnapshot[]): string {
    const counters = new Map<string, Map<string, number>>()
    const histograms = new Map<string, Map<string, HistogramData>>()
    for (const s of snapshots) {
      for (const [name, m] of Object.entries(s.counters)) {
        const t = counters.get(name) ?? new Map<string, number>()
        counters.set(name, t)
        for (const [l, v] of Object.entries(m)) t.set(l, (t.get(l) ?? 0) + v)
      }
      for (const [name, m] of Object.entries(s.histograms)) {
        const t = histograms.get(name) ?? new Map<string, HistogramData>()
        histograms.set(name, t)
        for (const [l, h] of Object.entries(m)) {
          const cur = t.get(l) ?? { counts: new Array<number>(latencyBuckets.length).fill(0), sum: 0, count: 0 }
          h.counts.forEach((c, i) => (cur.counts[i]! += c))
          cur.sum += h.sum
          cur.count += h.count
          t.set(l, cur)
        }
      }
    }
    let out = ''
    for (const [name, [text, type]] of Object.entries(help)) {
      out += `# HELP ${name} ${text}\n# TYPE ${name} ${type}\n`
      if (type === 'counter') {
        for (const [l, v] of counters.get(name) ?? []) out += `${name}${l === '' ? '' : `{${l}}`} ${v}\n`
      } else {
        for (const [l, h] of histograms.get(name) ?? []) {
          let cum = 0
          latencyBuckets.forEach((b, i) => {
            cum += h.counts[i]!
            out += `${name}_bucket{${l},le="${b}"} ${cum}\n`
          })
          out += `${name}_bucket{${l},le="+Inf"} ${h.count}\n${name}_sum{${l}} ${h.sum}\n${name}_count{${l}} ${h.count}\n`
        }
      }
    }
    return out
  }
}

/** Label values are config-controlled or small enums, but escape them per the format anyway. */
export function label(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : '\\' + c))
}
