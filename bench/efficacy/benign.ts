// Deterministic benign traffic for the false-positive side of `npm run
// efficacy` (the target: at most 0.2% of a realistic benign set blocked).
// Public corpora hold almost no benign traffic, so we build our own: legitimate
// calls to a JSON API whose content is tricky on purpose (apostrophes, SQL
// words in English, markdown with a little HTML, code in JSON, symbols).
import type { EfficacyCase, EfficacyRequest } from './corpora.js'
import { multipartBody } from './corpora.js'
import { Gen } from './rng.js'

export const BENIGN_CATEGORIES = ['search', 'profile', 'review', 'markdown', 'code-snippet', 'auth', 'upload', 'form'] as const
export type BenignCategory = (typeof BENIGN_CATEGORIES)[number]

const FIRST = [
  'Zoë',
  'Siobhán',
  'José',
  'François',
  'Björn',
  'Ngozi',
  'Łukasz',
  'Renée',
  'Chloé',
  'Mary-Kate',
  'Seán',
  'Ana María',
  'Jürgen',
  'Aoife',
  'Nuño',
  'Priya',
  'Wei',
  'Olúwaseun',
  'Dara',
  'Liam',
  'Emma',
  'Noah',
  'Olivia',
  'Amélie',
  'Søren',
  'Ingrid',
  'Hiroshi',
  'Fatima',
  'Kai',
  'Élodie',
]
const LAST = [
  "O'Brien",
  "D'Angelo",
  "O'Connor",
  "N'Diaye",
  "D'Souza",
  "O'Neill",
  'Müller',
  'García-López',
  'van der Berg',
  'Smith-Jones',
  'Ó Súilleabháin',
  'Nguyễn',
  'Kowalski',
  'Öztürk',
  'Dubois',
  "L'Estrange",
  'MacDonald',
  'Åkesson',
  'Ferreira',
  'Nakamura',
  'Schröder',
  'Brontë',
  'de la Cruz',
  'Rossi',
  'Johansson',
]
const STREETS = [
  'Baker Street',
  "King's Road",
  'Rue de la Paix',
  'Calle Mayor',
  'Hauptstraße',
  'Via Roma',
  "St. Mary's Lane",
  'Union Street',
  'Select Avenue',
  'Drop Lane',
  'Order Road',
  'Church Hill',
  'Market Square',
  'Oak Drive',
]
const CITIES = [
  ['London', 'GB', 'SW1A 1AA'],
  ['Dublin', 'IE', 'D02 X285'],
  ['Paris', 'FR', '75002'],
  ['Madrid', 'ES', '28013'],
  ['München', 'DE', '80331'],
  ['Zürich', 'CH', '8001'],
  ['Kraków', 'PL', '31-001'],
  ['São Paulo', 'BR', '01310-100'],
  ['Montréal', 'CA', 'H2X 1Y4'],
  ['New York', 'US', '10001'],
  ["Coeur d'Alene", 'US', '83814'],
  ['Reykjavík', 'IS', '101'],
] as const
const DOMAINS = ['example.com', 'mail.example.org', 'company.co.uk', 'uni.example.edu', 'posteo.example.de']
const PRODUCTS = [
  'noise-cancelling headphones',
  'standing desk',
  'espresso machine',
  'trail running shoes',
  'mechanical keyboard',
  'drop-down menu plugin',
  'union jack tea towel',
  'cast iron skillet',
  'USB-C hub',
  '4K monitor',
  "kids' bike",
  'select-comfort mattress',
]
const ADJ = ['great', 'solid', 'disappointing', 'excellent', 'decent', 'flimsy', 'surprisingly good', 'overpriced', 'lovely', 'robust']
const EMOJI = ['👍', '🎉', '😅', '❤️', '🚀', '☕', '🙏', '😂', '✅', '🇮🇪', '👩‍💻']
const UAS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 Edg/123.0.2420.81',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36',
]
const LANGS = ['en-GB,en;q=0.9', 'en-US,en;q=0.9', 'fr-FR,fr;q=0.9,en;q=0.8', 'de-DE,de;q=0.9,en;q=0.7', 'es-ES,es;q=0.9', 'ga-IE,en-IE;q=0.8']
const PAGES = [
  '/dashboard',
  '/settings/profile',
  '/products/standing-desk?ref=home',
  '/search?q=select+a+plan',
  '/checkout/step-2',
  '/questions/1234/how-to-order-by-two-columns',
  '/blog/2024/03/union-of-sets',
]

const SEARCHES = [
  'select a plan',
  'drop-down menu not working',
  'how to delete my account',
  'union station parking',
  "O'Brien",
  "Sinéad O'Connor albums",
  '1 + 1 = 2',
  'where is my order',
  'order by price low to high',
  'update billing address',
  'insert coin arcade',
  'café near me',
  'c++ vs c#',
  '"exact phrase" search',
  '50% off sale',
  'rock & roll hall of fame',
  'script writing course',
  'fire alarm alert sound',
  'exec summary template',
  'from a to z',
  'and/or logic',
  'tom & jerry',
  "who's on first?",
  'size 10 (UK)',
  'email@example.com',
  'https://example.com/docs',
  '<3 valentines gifts',
  'null pointer exception java',
  'true or false quiz',
  'Zoë Ball',
  'naïve café résumé',
  'select all that apply',
  'drop table legs replacement',
  'delete key stuck on mac',
  'where clause vs having',
  'sleep 8 hours schedule',
]

const REVIEW_TEMPLATES: ReadonlyArray<(g: Gen, p: string) => string> = [
  (g, p) => `I had to select a plan before I could order the ${p}, which was confusing, but the product itself is ${g.pick(ADJ)}.`,
  (g, p) => `The drop-down menu on the checkout page didn't show my country. Otherwise the ${p} is ${g.pick(ADJ)} ${g.pick(EMOJI)}`,
  (_g, p) => `Update: after a week the ${p} still works. I'd delete my earlier 2-star review if I could. Where do I do that?`,
  (g, p) => `My son's teacher said "1 + 1 = 2" is the only thing he's sure of; he's sure the ${p} is ${g.pick(ADJ)} too.`,
  (g, p) => `Union of two great ideas: the ${p} and free delivery. Arrived on ${g.int(1, 28)}/0${g.int(1, 9)}, order #${g.int(10000, 99999)}.`,
  (_g, p) => `Don't insert the cable too hard. The ${p} shipped with a script for the firmware update; the alert LED blinks when it's done.`,
  (g, p) => `5/5 — would buy again. The ${p} costs €${g.int(19, 499)},${g.int(10, 99)} here vs $${g.int(19, 499)}.${g.int(10, 99)} on the US site.`,
  (g, p) =>
    `Exec summary: good value. Order by ${g.int(2, 5)}pm and it ships the same day. Where the ${p} falls short is the manual (select language → English).`,
  (_g, p) => `Is it "drop-in" compatible? Yes. I dropped it in where my old ${p} was and it just worked. No need to execute any setup wizard.`,
  (g, p) => `I'm not sure why people complain; the ${p} is ${g.pick(ADJ)}. It's 30 cm × 60 cm, weighs 2.5 kg, and uses ~5 W. ${g.pick(EMOJI)}`,
  (_g, p) => `Sleep mode is broken: if you wait 10 seconds it doesn't wake up. Support said to hold 'Select' + 'Back' for 5s. The ${p} is fine after that.`,
  (_g, p) => `We're a family of 4 — two adults, two kids ("the terrors"). The ${p} survived them, which says a lot!`,
]

const MARKDOWN_TEMPLATES: ReadonlyArray<(g: Gen) => string> = [
  (g) =>
    `## Release notes\n\n- **Fixed**: the drop-down menu now closes on <kbd>Esc</kbd>\n- *Changed*: select a plan before checkout\n- See <a href="https://docs.example.com/changelog#v${g.int(1, 9)}.${g.int(0, 20)}">the changelog</a> for details.`,
  (g) =>
    `Thanks @${g
      .pick(FIRST)
      .toLowerCase()
      .normalize('NFD')
      .replace(/[^a-z]/g, '')}! This is <b>really</b> helpful. I'd add that you can <i>order by</i> date too:\n\n> Tip: hold Shift to select multiple rows.`,
  () =>
    `1. Open **Settings → Account**\n2. Click <b>Delete account</b> (this can't be undone!)\n3. Confirm via the e-mail we send you\n\n_Where's the export button?_ It's under [Data & privacy](https://app.example.com/settings/privacy).`,
  (g) =>
    `Meeting notes (${2024}-0${g.int(1, 9)}-1${g.int(0, 9)}):\n\n| item | owner |\n|---|---|\n| update the FAQ | Zoë |\n| drop legacy API v1 | D'Angelo |\n\nNext sync: Thursday @ 10:00 <i>(Dublin time)</i>.`,
  () =>
    'Use `Array.prototype.map` rather than a `for` loop here, e.g. `items.map(i => i.id)`. The <a href="https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/Array/map">MDN page</a> explains it well.',
  (g) =>
    `I <b>love</b> this recipe ${g.pick(EMOJI)} — swapped butter for olive oil & it was still great. 200g flour, 2 eggs, 1/2 tsp salt. <i>Bake at 180°C for 25–30 min.</i>`,
  () =>
    '**Q:** Is `SELECT *` bad practice?\n\n**A:** Mostly, yes — list the columns you need. Also see <a href="https://stackoverflow.example.com/q/321299">this answer</a>.',
  (g) =>
    `~~Old price~~ **New price: £${g.int(5, 99)}.99** <br>Offer ends ${2025}-${String(g.int(1, 12)).padStart(2, '0')}-${String(g.int(1, 28)).padStart(2, '0')}. <i>T&Cs apply.</i>`,
]

const SNIPPETS: ReadonlyArray<{ language: string; title: string; code: string }> = [
  {
    language: 'javascript',
    title: 'How do I group an array of objects by key?',
    code: 'const byCity = users.reduce((acc, u) => {\n  (acc[u.city] ||= []).push(u)\n  return acc\n}, {})\nconsole.log(Object.keys(byCity))',
  },
  {
    language: 'javascript',
    title: 'fetch returns a pending promise',
    code: "async function load (id) {\n  const res = await fetch(`/api/items/${id}`, { headers: { accept: 'application/json' } })\n  if (!res.ok) throw new Error(`HTTP ${res.status}`)\n  return res.json()\n}",
  },
  {
    language: 'javascript',
    title: 'Debounce a search box',
    code: 'function debounce (fn, ms = 300) {\n  let t\n  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms) }\n}',
  },
  { language: 'python', title: 'List comprehension with a condition', code: 'evens = [n * n for n in range(20) if n % 2 == 0]\nprint(evens[:5])' },
  {
    language: 'python',
    title: 'pandas: select rows where a column is in a list',
    code: "import pandas as pd\ndf = pd.read_csv('orders.csv')\nrecent = df[df['status'].isin(['shipped', 'delivered'])].sort_values('created_at')\nprint(recent.head())",
  },
  {
    language: 'python',
    title: 'Read a JSON file safely',
    code: "import json\nfrom pathlib import Path\n\ndef load(path: str) -> dict:\n    with Path(path).open(encoding='utf-8') as f:\n        return json.load(f)",
  },
  {
    language: 'sql',
    title: 'Order by two columns, newest first',
    code: 'SELECT id, name, created_at\nFROM customers\nWHERE country = :country\nORDER BY created_at DESC, name ASC\nLIMIT 20;',
  },
  {
    language: 'sql',
    title: 'Count orders per customer with a join',
    code: 'SELECT c.name, COUNT(o.id) AS orders\nFROM customers c\nLEFT JOIN orders o ON o.customer_id = c.id\nGROUP BY c.name\nHAVING COUNT(o.id) > 3;',
  },
  { language: 'sql', title: 'UNION vs UNION ALL?', code: 'SELECT email FROM newsletter_subscribers\nUNION\nSELECT email FROM customers;' },
  {
    language: 'sql',
    title: 'Upsert in PostgreSQL',
    code: 'INSERT INTO settings (user_id, theme)\nVALUES ($1, $2)\nON CONFLICT (user_id) DO UPDATE SET theme = EXCLUDED.theme;',
  },
  {
    language: 'typescript',
    title: 'Narrowing a union type',
    code: "type Shape = { kind: 'circle'; r: number } | { kind: 'square'; side: number }\nfunction area (s: Shape): number {\n  return s.kind === 'circle' ? Math.PI * s.r ** 2 : s.side ** 2\n}",
  },
  {
    language: 'go',
    title: 'Read a file line by line',
    code: 'f, err := os.Open("data.txt")\nif err != nil {\n\tlog.Fatal(err)\n}\ndefer f.Close()\nsc := bufio.NewScanner(f)\nfor sc.Scan() {\n\tfmt.Println(sc.Text())\n}',
  },
  { language: 'css', title: 'Center a div', code: '.wrapper {\n  display: grid;\n  place-items: center;\n  min-height: 100vh;\n}' },
]

const PASSWORDS = [
  "P@ss'w0rd!#$%",
  'correct horse battery staple',
  'Tr0ub4dor&3',
  'hunter2!!',
  "Ünïcødé-P@55 'quoted'",
  'pa$$w0rd<>2024',
  "My dog's name is Rex!",
  'S3cure#Pass;word',
  '" OR "sunny day" 42',
  '1+1=2&more',
  '%24ecret%21',
  'ZoëLoves☕2025!',
]
const FILE_NAMES = [
  'report (final).pdf',
  "Q3 results - D'Angelo's copy.xlsx",
  'résumé_2024.docx',
  'holiday photo #3.jpg',
  'invoice_2024-03-15.pdf',
  'notes & ideas.txt',
  'select-plan-screenshot.png',
  'drop_table_design_v2.pdf',
  'data (1).csv',
  'árvíztűrő tükörfúrógép.txt',
]

function jwt(g: Gen, sub: string): string {
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url')
  const iat = 1_710_000_000 + g.int(0, 20_000_000)
  return `${b64({ alg: 'RS256', typ: 'JWT', kid: g.hex(8) })}.${b64({ sub, iat, exp: iat + 3600, scope: 'read write', iss: 'https://auth.example.com/' })}.${g.bytes(64).toString('base64url')}`
}

function email(g: Gen, first: string, last: string): string {
  const local = `${first}.${last}`
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/Ł/g, 'L')
    .replace(/ł/g, 'l')
    .toLowerCase()
    .replace(/[^a-z0-9.+-]/g, '')
  return `${local}${g.chance(0.3) ? '+' + g.pick(['shop', 'news', 'work']) : ''}@${g.pick(DOMAINS)}`
}

function phone(g: Gen): string {
  return g.pick([
    `+353 ${g.int(80, 89)} ${g.int(100, 999)} ${g.int(1000, 9999)}`,
    `+44 (0)20 ${g.int(1000, 9999)} ${g.int(1000, 9999)}`,
    `(${g.int(200, 999)}) ${g.int(200, 999)}-${g.int(1000, 9999)}`,
    `+49 30 ${g.int(1000000, 9999999)}`,
  ])
}

function isoDate(g: Gen): string {
  return new Date(Date.UTC(2023 + g.int(0, 2), g.int(0, 11), g.int(1, 28), g.int(0, 23), g.int(0, 59), g.int(0, 59))).toISOString()
}

function thumbnail(g: Gen): string {
  // a PNG signature then noise: looks like a real tiny image to a decoder that sniffs
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), g.bytes(g.int(120, 600))])
  return 'data:image/png;base64,' + png.toString('base64')
}

function person(g: Gen): { first: string; last: string } {
  return { first: g.pick(FIRST), last: g.pick(LAST) }
}

function baseHeaders(g: Gen, opts: { auth?: boolean } = {}): Record<string, string> {
  const h: Record<string, string> = {
    'host': 'api.example.com',
    'user-agent': g.pick(UAS),
    'accept': 'application/json, text/plain, */*',
    'accept-language': g.pick(LANGS),
    'accept-encoding': 'gzip, deflate, br',
  }
  if (g.chance(0.7)) h['referer'] = 'https://app.example.com' + g.pick(PAGES)
  if (g.chance(0.6))
    h['cookie'] =
      `session=${g.bytes(24).toString('base64url')}; theme=${g.pick(['dark', 'light'])}; _ga=GA1.2.${g.int(100000000, 999999999)}.${g.int(1600000000, 1730000000)}; consent=${encodeURIComponent('{"ads":false,"analytics":true}')}`
  if (opts.auth !== false && g.chance(0.8)) h['authorization'] = 'Bearer ' + jwt(g, g.uuid())
  if (g.chance(0.3)) h['x-request-id'] = g.uuid()
  return h
}

function json(g: Gen, method: string, path: string, doc: unknown, opts: { auth?: boolean } = {}): EfficacyRequest {
  return { method, path, headers: { ...baseHeaders(g, opts), 'content-type': 'application/json' }, body: JSON.stringify(doc) }
}

function formEncode(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString()
}

const GENERATORS: Readonly<Record<BenignCategory, (g: Gen) => EfficacyRequest>> = {
  search: (g) => {
    const params = new URLSearchParams()
    params.set('q', g.pick(SEARCHES))
    if (g.chance(0.5)) params.set('page', String(g.int(1, 40)))
    if (g.chance(0.4)) params.set('sort', g.pick(['price_asc', 'price_desc', 'newest', 'relevance', '-created_at']))
    if (g.chance(0.3)) params.set('from', isoDate(g).slice(0, 10))
    if (g.chance(0.3)) params.set('filter', g.pick(['brand:Müller', 'size:10-12', 'price<100', 'color=red|blue', "category:kids' toys", 'in_stock=true']))
    if (g.chance(0.2)) params.set('redirect', 'https://app.example.com/results?tab=all')
    if (g.chance(0.2)) params.set('currency', g.pick(['EUR', 'GBP', 'USD', 'JPY']))
    const path = g.pick(['/api/search', '/api/products', '/api/v2/orders', '/api/articles'])
    return { method: 'GET', path: `${path}?${params.toString()}`, headers: baseHeaders(g) }
  },
  profile: (g) => {
    const p = person(g)
    const [city, country, postcode] = g.pick(CITIES)
    const doc = {
      firstName: p.first,
      lastName: p.last,
      displayName: `${p.first} ${p.last}`,
      email: email(g, p.first, p.last),
      phone: phone(g),
      address: {
        line1: `${g.int(1, 220)} ${g.pick(STREETS)}`,
        line2: g.chance(0.3) ? `Apt. ${g.int(1, 40)}${g.pick(['', 'B', '½'])}` : null,
        city,
        postcode,
        country,
      },
      website: g.chance(0.4) ? `https://${p.last.toLowerCase().replace(/[^a-z]/g, '')}.example.com/about?lang=en` : null,
      bio: g.pick([
        `Product designer. I select fonts for a living & drop by the café daily ${g.pick(EMOJI)}`,
        'Runner, reader, occasional SQL wrangler (select * from life where fun = true 😉).',
        "Dad of two. Don't ask me about the union of sets.",
        'Je suis développeuse — « ça marche sur ma machine ».',
        'Height: 1.82 m; weight: 75 kg; coffee: 3 cups/day',
      ]),
      birthday: isoDate(g).slice(0, 10),
      timezone: g.pick(['Europe/Dublin', 'America/New_York', 'Asia/Tokyo', 'Europe/Berlin']),
      preferences: { newsletter: g.chance(0.5), units: g.pick(['metric', 'imperial']), locale: g.pick(['en-IE', 'fr-CA', 'de-DE']) },
    }
    return json(g, g.pick(['PUT', 'PATCH']), `/api/users/${g.uuid()}`, doc)
  },
  review: (g) => {
    const product = g.pick(PRODUCTS)
    const text = g
      .some(REVIEW_TEMPLATES, 1, 3)
      .map((t) => t(g, product))
      .join(' ')
    const p = person(g)
    return json(g, 'POST', `/api/products/${g.int(1000, 99999)}/reviews`, {
      rating: g.int(1, 5),
      title: g.pick(['Does what it says', "Not what I'd hoped", 'Select this one!', 'Five stars ⭐⭐⭐⭐⭐', 'Meh — 3/5', "Best purchase of '24"]),
      body: text,
      author: `${p.first} ${p.last.charAt(0)}.`,
      verifiedPurchase: g.chance(0.7),
      createdAt: isoDate(g),
    })
  },
  markdown: (g) =>
    json(g, 'POST', `/api/posts/${g.uuid()}/comments`, {
      body: g.pick(MARKDOWN_TEMPLATES)(g),
      format: 'markdown',
      parentId: g.chance(0.4) ? g.uuid() : null,
      mentions: g.some(FIRST, 0, 2),
    }),
  'code-snippet': (g) => {
    const s = g.pick(SNIPPETS)
    const asking = g.chance(0.5)
    return json(g, asking ? 'POST' : 'PUT', asking ? '/api/questions' : `/api/questions/${g.int(1, 99999)}/answers/${g.int(1, 999)}`, {
      title: s.title,
      body: g.pick([
        'I tried this but it prints the wrong thing — what am I missing?',
        "Here's what worked for me:",
        'Can someone explain why this is slow on 1M rows?',
        'Minimal example below (Node 20 / Python 3.12).',
      ]),
      snippet: s.code,
      language: s.language,
      tags: [s.language, ...g.some(['performance', 'arrays', 'sql', 'beginner', 'async'], 0, 2)],
    })
  },
  auth: (g) => {
    const p = person(g)
    const mail = email(g, p.first, p.last)
    const password = g.pick(PASSWORDS)
    switch (g.int(0, 3)) {
      case 0:
        return json(g, 'POST', '/api/auth/login', { email: mail, password, rememberMe: g.chance(0.5) }, { auth: false })
      case 1:
        return json(
          g,
          'POST',
          '/api/auth/register',
          { email: mail, password, name: `${p.first} ${p.last}`, acceptTerms: true, marketing: g.chance(0.3) },
          { auth: false },
        )
      case 2:
        return json(g, 'POST', '/api/auth/change-password', { currentPassword: g.pick(PASSWORDS), newPassword: password })
      default: {
        const body = formEncode({
          grant_type: 'refresh_token',
          refresh_token: g.bytes(32).toString('base64url'),
          client_id: 'web-app',
          scope: 'openid profile email',
        })
        return {
          method: 'POST',
          path: '/oauth/token',
          headers: { ...baseHeaders(g, { auth: false }), 'content-type': 'application/x-www-form-urlencoded' },
          body,
        }
      }
    }
  },
  upload: (g) => {
    const name = g.pick(FILE_NAMES)
    if (g.chance(0.5)) {
      return json(g, 'POST', '/api/avatars', {
        filename: name.replace(/\.\w+$/, '.png'),
        contentType: 'image/png',
        data: thumbnail(g),
        alt: `Photo of ${g.pick(FIRST)} at the café`,
      })
    }
    const boundary = '----WebKitFormBoundary' + g.bytes(12).toString('base64url').slice(0, 16)
    const csv = `id,name,amount,currency\n1,"O'Brien, Seán",1299.00,EUR\n2,Zoë D'Angelo,-42.50,GBP\n3,"Select Ltd.",0.99,USD\n`
    const body = multipartBody(boundary, [
      {
        name: 'description',
        value: g.pick(['Final version — please review before Friday.', 'Drop-down fix screenshots', "Q3 numbers (draft); don't share externally"]),
      },
      { name: 'folderId', value: g.uuid() },
      {
        name: 'file',
        filename: name,
        contentType: name.endsWith('.csv') || name.endsWith('.txt') ? 'text/plain' : 'application/octet-stream',
        value: name.endsWith('.csv') || name.endsWith('.txt') ? csv : g.bytes(g.int(40, 200)).toString('base64'),
      },
    ])
    return { method: 'POST', path: '/api/files', headers: { ...baseHeaders(g), 'content-type': `multipart/form-data; boundary=${boundary}` }, body }
  },
  form: (g) => {
    const p = person(g)
    const [city, country, postcode] = g.pick(CITIES)
    const fields: Record<string, string> = g.chance(0.5)
      ? {
          name: `${p.first} ${p.last}`,
          email: email(g, p.first, p.last),
          subject: g.pick(['Order #12345 — wrong size', 'Question about plans', 'Delete my data (GDPR)', 'Partnership?']),
          message: g.pick(REVIEW_TEMPLATES)(g, g.pick(PRODUCTS)) + `\n\nThanks,\n${p.first}`,
          phone: phone(g),
        }
      : {
          'shipping[name]': `${p.first} ${p.last}`,
          'shipping[street]': `${g.int(1, 220)} ${g.pick(STREETS)}`,
          'shipping[city]': city,
          'shipping[postcode]': postcode,
          'shipping[country]': country,
          amount: g.pick(['€1,299.00', '£49.99', '$0.99', '¥12,000', '12.50 EUR']),
          note: g.pick([
            'Leave it at the back door, please!',
            "Ring twice — the bell's broken",
            'Gift: yes (no prices in the box)',
            'Deliver between 9:00-17:00',
          ]),
          coupon: g.pick(['SPRING-25%', 'WELCOME10', '', 'FREE_SHIP']),
          website: g.chance(0.3) ? 'https://www.example.com/?utm_source=newsletter&utm_medium=email' : '',
        }
    return {
      method: 'POST',
      path: g.pick(['/contact', '/checkout', '/support/tickets']),
      headers: { ...baseHeaders(g), 'content-type': 'application/x-www-form-urlencoded', 'origin': 'https://app.example.com' },
      body: formEncode(fields),
    }
  },
}

// Upload is rarer in real traffic; the rest are spread evenly
const WEIGHTS: Readonly<Record<BenignCategory, number>> = { search: 4, profile: 2, review: 2, markdown: 2, 'code-snippet': 2, auth: 2, upload: 1, form: 2 }

export function benignCases(count = 2500, seed = 0x5eed): EfficacyCase[] {
  const g = new Gen(seed)
  const bag: BenignCategory[] = BENIGN_CATEGORIES.flatMap((c) => Array.from({ length: WEIGHTS[c] }, () => c))
  const out: EfficacyCase[] = []
  for (let i = 0; i < count; i++) {
    // the first pass through the list guarantees every category at small counts
    const category = i < BENIGN_CATEGORIES.length ? (BENIGN_CATEGORIES[i] as BenignCategory) : g.pick(bag)
    out.push({ source: 'benign', category, expect: 'pass', id: `benign:${category}:${i}`, request: GENERATORS[category](g) })
  }
  return out
}
