import { test } from 'node:test'
import assert from 'node:assert/strict'
import { looksLikeStackTrace } from '../../src/upstream/error-masking.js'

test('stack traces and debug pages are recognised; ordinary error bodies are not', () => {
  const traces = [
    'Traceback (most recent call last):\n  File "app.py", line 1',
    '<title>Werkzeug Debugger</title>',
    'Error: boom\n    at handler (/srv/app.js:10:5)\n    at next (/srv/router.js:1:1)',
    'Exception in thread "main" java.lang.NullPointerException\n\tat java.base/x',
    'panic: runtime error: index out of range\n\ngoroutine 1 [running]:',
    'PHP Fatal error:  Uncaught Error',
    'SQLSTATE[42000]: Syntax error',
  ]
  for (const t of traces) assert.ok(looksLikeStackTrace(t), t)
  const plain = ['{"detail":"Internal Server Error"}', 'Internal Server Error', '{"error":"maintenance","retry_at":"10:00"}', 'Service temporarily unavailable']
  for (const p of plain) assert.ok(!looksLikeStackTrace(p), p)
})

test('detection stays linear on adversarial input', () => {
  const evil = '\n  at ' + 'a:1:'.repeat(200_000)
  const started = performance.now()
  looksLikeStackTrace(evil)
  assert.ok(performance.now() - started < 500)
})
