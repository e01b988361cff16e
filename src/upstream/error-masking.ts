/**
 * Recognises stack traces and framework debug pages in upstream 5xx bodies (production error
 * masking): a traceback tells an attacker file paths, library versions and code.
 * Plain substring checks plus one bounded, anchored-per-line pattern: linear in the body size.
 */

const markers = [
  'Traceback (most recent call last)', // Python
  'Werkzeug Debugger', // Flask/Werkzeug debug page
  'starlette.exceptions', // Starlette debug page
  'class="traceback"', // Starlette ServerErrorMiddleware(debug=True) HTML
  'django.core.handlers', // Django debug page
  "You're seeing this error because you have <code>DEBUG = True</code>",
  'at java.', // Java stack frames
  'Exception in thread "',
  'System.NullReferenceException',
  'Stack trace:', // PHP
  'PHP Fatal error',
  'PHP Warning',
  '.rb:in `', // Ruby
  'goroutine 1 [running]', // Go panic
  'panic: runtime error',
  'SQLSTATE[',
  'psycopg2.errors.',
  'sqlalchemy.exc.',
]

// Node/V8 frames: "    at fn (/path/file.js:10:5)" or "    at /path/file.js:10:5"
const v8Frame = /\n\s{2,8}at [^\n]{0,300}:\d{1,7}:\d{1,7}\)?(?=\n|$)/

export function looksLikeStackTrace(body: string): boolean {
  for (let i = 0; i < markers.length; i++) if (body.indexOf(markers[i]!) !== -1) return true
  return v8Frame.test(body)
}
