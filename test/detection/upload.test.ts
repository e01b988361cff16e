import { test } from 'node:test'
import assert from 'node:assert/strict'
import { analyzeUploadName, isFileNameInput } from '../../src/detection/upload/analyzer.js'
import { createEngine } from '../../src/detection/engine.js'
import type { Input } from '../../src/detection/types.js'
import { surest } from './support.js'

// CRS 933110, 944140, 932180: files a server would run or that reconfigure it
const attacks: [string, string][] = [
  ['shell.php', 'upload-script-file'],
  ['a.PHP5', 'upload-script-file'],
  ['fda.phtml......', 'upload-script-file'],
  ['photo.php ', 'upload-script-file'],
  ['settings. php', 'upload-script-file'],
  ['dangerous.phar', 'upload-script-file'],
  ['uploads/../x.pht', 'upload-script-file'],
  ['C:\\temp\\cmd.aspx', 'upload-script-file'],
  ['a.jsp..', 'upload-script-file'],
  ['shell.asp;.jpg', 'upload-script-file'],
  ['test.php.jpg', 'upload-script-file'],
  ['shell%2Ephp', 'upload-script-file'],
  ['.htaccess', 'upload-server-config'],
  ['.user.ini', 'upload-server-config'],
  ['Web.config', 'upload-server-config'],
]
const legit = [
  'photo.jpg',
  'report-2026.pdf',
  'php-cheatsheet.pdf',
  'my.photos.jpg',
  'notes.phpx',
  'index.html',
  'README',
  'archive.tar.gz',
  'config.yml',
  'jsp-guide.txt',
  '',
]

test('upload: script and server-config file names are found, ordinary file names pass', () => {
  const failures: string[] = []
  for (const [value, rule] of attacks) {
    const f = surest(analyzeUploadName, value, false)
    if (f === null || f.rule !== rule || f.confidence < 0.8) failures.push(`${value}: ${f?.rule} ${f?.confidence}`)
  }
  for (const value of legit) {
    const f = surest(analyzeUploadName, value, false)
    if (f !== null) failures.push(`${value}: ${f.rule} ${f.confidence}`)
  }
  assert.deepEqual(failures, [])
})

test('upload: only file-name inputs are judged as file names', () => {
  assert.equal(isFileNameInput('header', 'x-file-name'), true)
  assert.equal(isFileNameInput('header', 'x_filename'), true)
  assert.equal(isFileNameInput('body', 'avatar.filename'), true)
  assert.equal(isFileNameInput('header', 'referer'), false)
  assert.equal(isFileNameInput('query', 'filename'), false)
  assert.equal(isFileNameInput('body', 'page'), false)
  const engine = createEngine({ paranoia: 1 })
  const rules = (input: Input) => engine.inspect([input], null, false).findings.map((f) => f.rule)
  // `shell.php` is all plain characters: still judged where it is a file name
  assert.deepEqual(rules({ location: 'header', name: 'x-filename', value: 'shell.php', formEncoded: false }), ['upload-script-file'])
  assert.deepEqual(rules({ location: 'body', name: 'file.filename', value: 'shell.php', formEncoded: false }), ['upload-script-file'])
  assert.deepEqual(rules({ location: 'header', name: 'x-filename', value: 'holiday.jpg', formEncoded: false }), [])
  assert.deepEqual(rules({ location: 'query', name: 'page', value: 'index.php', formEncoded: true }), [])
  assert.deepEqual(rules({ location: 'body', name: 'link', value: '/blog/index.php', formEncoded: false }), [])
})

test('upload analysis stays linear on long adversarial input', () => {
  for (const v of ['.'.repeat(100_000) + 'x', ' .'.repeat(50_000), 'a.php'.repeat(20_000), '/'.repeat(100_000)]) {
    const t = performance.now()
    analyzeUploadName(v)
    assert.ok(performance.now() - t < 50)
  }
})
