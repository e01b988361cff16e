export type CodeRule =
  | 'php-open-tag'
  | 'php-code-execution'
  | 'php-obfuscated-call'
  | 'php-variable-function'
  | 'php-superglobal'
  | 'php-serialized-object'
  | 'java-deserialization'
  | 'java-process-execution'
  | 'java-reflection'
  | 'java-gadget'
  | 'java-class-loader'
  | 'java-class-name'
  | 'node-serialize'
  | 'node-code-execution'
  | 'perl-interpolation'

export interface CodeFinding {
  readonly rule: CodeRule
  readonly confidence: number
}
