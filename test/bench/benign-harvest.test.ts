// The pieces of bench/efficacy/harvest.ts that turn files into text for the benign corpus:
// roff to text, docstrings without a parser, Markdown split at headings, and the filter that
// leaves attack demonstrations out.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { attackDemo, docstrings, parseRoff, personName, splitMarkdown } from '../../bench/efficacy/harvest.js'

test('roff to text, docstrings, markdown sections, attack demonstrations', () => {
  const man = parseRoff(
    '.TH LS 1\n.SH NAME\nls \\- list directory contents\n.SH DESCRIPTION\n.PP\nList \\fBinformation\\fR about the FILEs.\n.TP\n\\fB\\-a\\fR, \\fB\\-\\-all\\fR\ndo not ignore entries starting with .\n.SH EXAMPLES\n.nf\nls \\-la /tmp | less\n.fi\n',
  )
  assert.equal(man.title, 'ls - list directory contents')
  assert.deepEqual(
    man.sections.map((s) => s.heading),
    ['DESCRIPTION', 'EXAMPLES'],
  )
  assert.deepEqual(man.sections[0]?.paragraphs, ['List information about the FILEs.', '-a, --all\ndo not ignore entries starting with .'])
  assert.deepEqual(man.sections[1]?.literal, ['ls -la /tmp | less'])

  const py =
    '"""Module docstring that is long enough to be kept here."""\nx = """not a docstring, an assignment that is long enough"""\n\ndef f(a):\n    """Return a.\n\n    More words on the second paragraph.\n    """\n'
  assert.deepEqual(docstrings(py), [
    { owner: '', text: 'Module docstring that is long enough to be kept here.' },
    { owner: 'def f(a):', text: 'Return a.\n\nMore words on the second paragraph.' },
  ])

  const md = splitMarkdown('# Title\n\nIntro text.\n\n## Usage\n\n```js\n# not a heading\nconst a = 1\n```\n')
  assert.deepEqual(
    md.sections.map((s) => s.heading),
    ['# Title', '## Usage'],
  )
  assert.deepEqual(md.code, [{ heading: 'Usage', language: 'js', code: '# not a heading\nconst a = 1' }])

  assert.notEqual(attackDemo('Escapes input: <script>alert(1)</script> becomes harmless'), null)
  assert.notEqual(attackDemo("Beware of SQL injection such as ' OR '1'='1"), null)
  assert.equal(attackDemo('ls -la /etc/passwd prints the password file'), null, 'a path alone is no demonstration')
  assert.equal(attackDemo('rollup -c && node -e "console.log(1)"'), null)
})

test('personName keeps people, not organisations or addresses', () => {
  assert.equal(personName("Brian O'Kennedy <bok@example.org>"), "Brian O'Kennedy")
  assert.equal(personName('2009-2012 Jörg Frings-Fürst'), 'Jörg Frings-Fürst')
  assert.equal(personName('Free Software Foundation, Inc.'), null)
  assert.equal(personName('root@localhost'), null)
  assert.equal(personName('Madonna'), null, 'one word is not enough to tell')
})
