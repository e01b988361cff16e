/** Child processes in tests: their JSON log lines. */
import type { ChildProcess } from 'node:child_process'

/** Collects stdout JSON lines and resolves when a line matches. */
export function waitForLog(child: ChildProcess, match: (l: Record<string, unknown>) => boolean, timeoutMs = 15_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buf = ''
    const timer = setTimeout(() => reject(new Error('timed out waiting for log line; got: ' + buf.slice(-2000))), timeoutMs)
    const onData = (c: Buffer) => {
      buf += c.toString()
      for (const line of buf.split('\n')) {
        if (!line.startsWith('{')) continue
        try {
          const l = JSON.parse(line) as Record<string, unknown>
          if (match(l)) {
            clearTimeout(timer)
            child.stdout!.off('data', onData)
            resolve(l)
            return
          }
        } catch {
          /* partial line */
        }
      }
    }
    child.stdout!.on('data', onData)
  })
}
