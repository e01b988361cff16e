/**
 * Automatic bans through the real gateway: an IP that collects N WAF blocks or N failed
 * logins within the window is refused (403 banned, Retry-After) before anything else runs, other
 * clients and allow-listed IPs are not, and off means off. Client IPs come from X-Forwarded-For
 * sent by a trusted proxy (the test itself).
 */
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream } from '../helpers/upstream.js'
import { rawRequest, request } from '../helpers/http.js'
import { startGateway } from '../helpers/gateway.js'
import { startAuthGateway } from '../helpers/auth.js'
import { clientKey } from '../../src/net/address.js'

const from = (ip: string, extra: Record<string, string> = {}) => ({ headers: { 'x-forwarded-for': ip, ...extra } })
const attack = `/search?q=${encodeURIComponent("' OR 1=1 --")}`
const base = { trusted_proxies: ['127.0.0.1/32'] }

describe('automatic bans', () => {
  test('the 3rd WAF block bans the IP: clean requests from it get 403 banned with Retry-After; other IPs pass; the upstream sees none', async () => {
    const up = await startUpstream()
    const gw = await startGateway({ ...base, upstream: up.url, bans: { enabled: true, waf_blocks: 3, window: '1m', duration: '10m' } })
    try {
      const bad = '203.0.113.7'
      assert.equal((await request(`${gw.url}/hello`, from(bad))).status, 200)
      for (let i = 0; i < 3; i++) assert.equal((await request(`${gw.url}${attack}`, from(bad))).json().code, 'DRAWBRIDGE_ERR_BLOCKED')
      const seen = up.seen.length
      const refused = await request(`${gw.url}/hello`, from(bad))
      assert.equal(refused.status, 403)
      assert.equal(refused.json().code, 'DRAWBRIDGE_ERR_BANNED')
      assert.ok(refused.json().request_id)
      const retry = Number(refused.headers['retry-after'])
      assert.ok(retry > 590 && retry <= 600, String(retry))
      assert.equal(up.seen.length, seen)
      assert.equal((await request(`${gw.url}/hello`, from('203.0.113.8'))).status, 200)
      const metrics = await request(`${gw.adminUrl}/metrics`)
      assert.match(metrics.text, /drawbridge_bans_total\{reason="waf"\} 1/)
      assert.match(metrics.text, /drawbridge_rejections_total\{stage="bans",reason="client banned"\} 1/)
      assert.ok(gw.logs().some((l) => l.msg === 'client banned' && l.client_ip === bad && l.reason === 'waf'))
    } finally {
      await gw.close()
      await up.close()
    }
  })

  test('attacks in WebSocket upgrades are stored as security events and count toward a ban', async () => {
    const up = await startUpstream()
    const gw = await startGateway({ ...base, upstream: up.url, bans: { enabled: true, waf_blocks: 3, window: '1m', duration: '10m' } })
    try {
      const upgrade = (ip: string) =>
        rawRequest(
          gw.url,
          `GET /ws${attack.slice('/search'.length)} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
            `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Forwarded-For: ${ip}\r\n\r\n`,
        )
      for (let i = 0; i < 3; i++) assert.equal((await upgrade('203.0.113.30')).status, 403)
      const events = await gw.gateway.events.store.list({ limit: 10, client_ip: '203.0.113.30' })
      assert.ok(
        events.length >= 3 && events.every((e) => e.action === 'blocked' && e.category === 'sqli'),
        JSON.stringify(events.map((e) => [e.action, e.category])),
      )
      const r = await request(`${gw.url}/hello`, from('203.0.113.30'))
      assert.equal(r.json().code, 'DRAWBRIDGE_ERR_BANNED')
      assert.equal((await request(`${gw.url}/hello`, from('203.0.113.31'))).status, 200)
    } finally {
      await gw.close()
      await up.close()
    }
  })

  test('blocks below the threshold, allow-listed IPs and bans switched off never ban', async () => {
    const up = await startUpstream()
    const gw = await startGateway({
      ...base,
      upstream: up.url,
      bans: { enabled: true, waf_blocks: 3, window: '1m', duration: '10m', allow_ips: ['198.51.100.0/24'] },
    })
    const off = await startGateway({ ...base, upstream: up.url, bans: { enabled: false, waf_blocks: 1 } })
    try {
      for (let i = 0; i < 2; i++) await request(`${gw.url}${attack}`, from('203.0.113.9'))
      assert.equal((await request(`${gw.url}/hello`, from('203.0.113.9'))).status, 200)
      for (let i = 0; i < 5; i++) await request(`${gw.url}${attack}`, from('198.51.100.20'))
      assert.equal((await request(`${gw.url}/hello`, from('198.51.100.20'))).status, 200)
      for (let i = 0; i < 3; i++) await request(`${off.url}${attack}`, from('203.0.113.10'))
      assert.equal((await request(`${off.url}/hello`, from('203.0.113.10'))).status, 200)
    } finally {
      await off.close()
      await gw.close()
      await up.close()
    }
  })

  test('failed logins ban the IP; another user logging in from another IP is not affected', async () => {
    const up = await startUpstream()
    const gw = await startAuthGateway({ ...base, upstream: up.url, bans: { enabled: true, failed_logins: 3, window: '1m', duration: '1h' } })
    try {
      const pw = 'correct horse battery staple'
      await gw.identity.register('alice', null, pw, [])
      await gw.identity.register('bob', null, pw, [])
      const login = (ip: string, username: string, password: string) =>
        request(`${gw.url}/auth/login`, { method: 'POST', ...from(ip, { 'content-type': 'application/json' }), body: JSON.stringify({ username, password }) })
      // A spray: one guess each at three accounts.
      for (const name of ['carol', 'dave', 'erin']) assert.equal((await login('203.0.113.11', name, 'wrong guess')).status, 401)
      // Banned: even the right password from that IP is refused now.
      const r = await login('203.0.113.11', 'alice', pw)
      assert.equal(r.status, 403)
      assert.equal(r.json().code, 'DRAWBRIDGE_ERR_BANNED')
      assert.equal((await login('203.0.113.12', 'bob', pw)).status, 200)
    } finally {
      await gw.close()
      await up.close()
    }
  })
})

describe('client keys', () => {
  test('IPv4 is its own key; IPv6 is counted and banned by its /64', () => {
    assert.equal(clientKey('203.0.113.7'), '203.0.113.7')
    assert.equal(clientKey('::ffff:203.0.113.7'), '203.0.113.7')
    assert.equal(clientKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64')
    assert.equal(clientKey('2001:db8:1:2::1'), '2001:db8:1:2::/64')
    assert.equal(clientKey('2001:0db8:0001:0002:ffff::'), '2001:db8:1:2::/64')
    assert.equal(clientKey('2001:db8::1'), '2001:db8:0:0::/64')
    assert.equal(clientKey('::1'), '0:0:0:0::/64')
    assert.equal(clientKey('fe80::1%eth0'), 'fe80:0:0:0::/64')
    assert.notEqual(clientKey('2001:db8:1:2::1'), clientKey('2001:db8:1:3::1'))
  })

  test('an IPv6 client rotating addresses within its /64 stays banned; allow-listed neighbours are not', async () => {
    const up = await startUpstream()
    const gw = await startGateway({
      ...base,
      upstream: up.url,
      bans: { enabled: true, waf_blocks: 3, window: '1m', duration: '10m', allow_ips: ['2001:db8:7:7::100/128'] },
    })
    try {
      for (let i = 1; i <= 3; i++) assert.equal((await request(`${gw.url}${attack}`, from(`2001:db8:7:7::${i}`))).status, 403)
      assert.equal((await request(`${gw.url}/hello`, from('2001:db8:7:7:abcd::9'))).json().code, 'DRAWBRIDGE_ERR_BANNED')
      assert.equal((await request(`${gw.url}/hello`, from('2001:db8:7:7::100'))).status, 200)
      assert.equal((await request(`${gw.url}/hello`, from('2001:db8:7:8::1'))).status, 200)
    } finally {
      await gw.close()
      await up.close()
    }
  })
})
