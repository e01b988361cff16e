import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { Logger } from '../../src/observability/logger.js'

const loggerModule = fileURLToPath(new URL('../../src/observability/logger.js', import.meta.url))

function sink(): { writes: string[]; write(chunk: Buffer): void } {
  const writes: string[] = []
  return { writes, write: (chunk: Buffer) => void writes.push(chunk.toString('utf8')) }
}

test('lines wait and are written together, in order, once the flush interval has passed', async () => {
  const out = sink()
  const logger = new Logger('info', out)
  logger.info('one', { n: 1 })
  logger.raw('info', 'access', '"status":200')
  logger.debug('below the level')
  assert.equal(out.writes.length, 0)
  await sleep(120)
  assert.equal(out.writes.length, 1)
  const lines = out.writes[0]!.split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
  assert.deepEqual(
    lines.map((l) => [l.msg, l.level]),
    [
      ['one', 'info'],
      ['access', 'info'],
    ],
  )
  assert.equal(lines[0]!.n, 1)
  assert.equal(lines[1]!.status, 200)
})

test('flush() writes at once; a full buffer is written without waiting', () => {
  const out = sink()
  const logger = new Logger('info', out)
  logger.warn('now')
  logger.flush()
  assert.equal(out.writes.length, 1)
  logger.flush()
  assert.equal(out.writes.length, 1, 'nothing waiting: no empty write')
  const big = 'x'.repeat(1000)
  for (let i = 0; i < 70; i++) logger.info('big', { big })
  assert.equal(out.writes.length, 2, '64 KB waiting is written without the timer')
  logger.flush()
})

test('lines keep their characters (UTF-8) and their order, a line larger than the buffer included', () => {
  const out = sink()
  const logger = new Logger('info', out)
  const huge = 'é'.repeat(40_000) // 80 KB of UTF-8: more than waits before a write
  logger.info('before', { name: 'Zoë 🚀' })
  logger.info('huge', { huge })
  logger.info('after', { quote: '"\\' })
  logger.flush()
  const lines = out.writes
    .join('')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
  assert.deepEqual(
    lines.map((l) => l.msg),
    ['before', 'huge', 'after'],
  )
  assert.equal(lines[0]!.name, 'Zoë 🚀')
  assert.equal(lines[1]!.huge, huge)
  assert.equal(lines[2]!.quote, '"\\')
  assert.ok(out.writes.length >= 2, 'what waited was written before the huge line was added')
})

test('the time is the ISO 8601 UTC time of the line, to the millisecond', async () => {
  const out = sink()
  const logger = new Logger('info', out)
  for (let i = 0; i < 3; i++) {
    const before = Date.now()
    logger.info('tick')
    logger.flush()
    const after = Date.now()
    const time = (JSON.parse(out.writes.at(-1)!) as { time: string }).time
    assert.match(time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
    const t = Date.parse(time)
    assert.ok(t >= before && t <= after, `${time} within the call`)
    assert.equal(new Date(t).toISOString(), time)
    await sleep(7)
  }
})

test('lines still waiting when the process exits are written', () => {
  // a child that logs and exits at once, before the flush interval
  const script = `import { Logger } from ${JSON.stringify(loggerModule)}; new Logger('info').info('last words', { n: 7 })`
  const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
  const line = JSON.parse(stdout.trim()) as Record<string, unknown>
  assert.equal(line.msg, 'last words')
  assert.equal(line.n, 7)
})
