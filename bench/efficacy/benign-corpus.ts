/**
 * The benign corpus: legitimate API calls built from real-world text found on a Debian machine
 * and in installed npm and Python packages (build-benign.ts; how, from what and under which
 * licences: bench/efficacy/benign/README.md). One JSON record per line, gzipped, committed:
 * the false-positive side of `npm run efficacy` and `efficacy:quick`, per family.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { benignCases } from './benign.js'
import { findRepoRoot, type EfficacyCase, type EfficacyRequest } from './corpora.js'

/** In the order the file holds them. */
export const BENIGN_FAMILIES = [
  'ci-steps',
  'code-snippets',
  'changelog',
  'readme-markdown',
  'man-pages',
  'docstrings',
  'names-bios',
  'uploads',
  'login-forms',
  'manifests',
  'search-queries',
  'headers',
  'passwords',
  'tokens',
] as const
export type BenignFamily = (typeof BENIGN_FAMILIES)[number]

export interface BenignRecord {
  /** `<family>:<five-digit index>`, in file order */
  readonly id: string
  readonly family: BenignFamily
  /** Where the text came from: `debian:<package>:<file>`, `npm:<name>@<version>:<file>`, `generated:...` */
  readonly source: string
  /** How the text was put into the request: `json:workflow`, `form:login`, `multipart:file`... */
  readonly shape: string
  readonly request: EfficacyRequest
}

export const BENIGN_CORPUS_FILE = 'bench/efficacy/benign/requests.jsonl.gz'

export function benignCorpusPath(): string {
  return process.env['EFFICACY_BENIGN_CORPUS'] ?? join(findRepoRoot(), BENIGN_CORPUS_FILE)
}

export function loadBenignRecords(file: string = benignCorpusPath()): BenignRecord[] {
  const text = gunzipSync(readFileSync(file)).toString('utf8')
  const out: BenignRecord[] = []
  for (const line of text.split('\n')) if (line !== '') out.push(JSON.parse(line) as BenignRecord)
  return out
}

/** A record as an efficacy case: source `benign`, the family as the category. */
export function caseOf(r: BenignRecord): EfficacyCase {
  return { source: 'benign', category: r.family, expect: 'pass', id: r.id, request: r.request }
}

export function benignCorpusCases(file: string = benignCorpusPath()): EfficacyCase[] {
  return loadBenignRecords(file).map(caseOf)
}

/** The generated set of benign.ts, its categories as families of their own (`synthetic-search`...). */
export const SYNTHETIC_PREFIX = 'synthetic-'
export function syntheticCases(count = 2500): EfficacyCase[] {
  return benignCases(count).map((c) => ({ ...c, category: SYNTHETIC_PREFIX + c.category }))
}

/** Every benign case the efficacy runs replay: the corpus, then the synthetic set. */
export function allBenignCases(): EfficacyCase[] {
  return [...benignCorpusCases(), ...syntheticCases()]
}
