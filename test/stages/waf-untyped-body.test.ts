/**
 * A body sent without Content-Type is judged as the app will read it: FastAPI (and other
 * frameworks that default to JSON) parse it as JSON, so the WAF reads valid JSON field by field
 * too, on top of reading the whole text. Through the real gateway.
 */
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { rawRequest } from '../helpers/http.js'

function post(url: string, body: string) {
  return rawRequest(url, `POST /items HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
}

describe('waf: bodies without a Content-Type', () => {
  let up: TestUpstream
  let gw: TestGateway
  before(async () => {
    up = await startUpstream()
    gw = await startGateway({ upstream: up.url })
  })
  after(async () => {
    await gw.close()
    await up.close()
  })

  test('an untyped JSON body is read as JSON: a duplicated key (parser differential) was passed as text', async () => {
    const before = up.seen.length
    for (const body of ['{"role":"reader","role":"admin"}', ' [{"id":1,"owner":"me","owner":"you"}]']) {
      const r = await post(gw.url, body)
      assert.equal(r.status, 403, body)
    }
    assert.equal(up.seen.length, before)
  })

  test('untyped JSON, text and form bodies that are harmless pass', async () => {
    for (const body of ['{"name":"O\'Brien","note":"a \\"quoted\\" word","tags":["a","b"]}', '[1,2,3]', '{not json at all', 'hello world', 'a=1&b=2']) {
      const r = await post(gw.url, body)
      assert.equal(r.status, 200, body)
      assert.equal(up.seen.at(-1)!.body.toString(), body)
    }
  })

  test('an injection in untyped JSON is still blocked', async () => {
    const r = await post(gw.url, '{"q": "x\\u0027 UNION SELECT password FROM users--"}')
    assert.equal(r.status, 403)
  })
})
