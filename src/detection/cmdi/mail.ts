/**
 * Mail protocol command injection (SMTP, IMAP, POP3): a value that breaks the line an app sends
 * to its mail server and adds a command of its own (`\r\nRCPT TO:<x@y>`, `\r\na1 FETCH 1:* …`).
 * The value must start a new line and the line must have the protocol's shape, not just a verb:
 * "Data", "Help" or "A4 copy paper" on a line of their own are prose.
 */

const smtpAddress = /^(?:MAIL\s+FROM|RCPT\s+TO)\s*:\s*<[^>\r\n]{0,200}>/i
const smtpBare = /^(?:DATA|QUIT|RSET|NOOP|STARTTLS)\s*$|^(?:EHLO|HELO|VRFY|EXPN)\s+[\w.@<>-]{1,100}\s*$|^HELP\s+\w+\s*$/
const imap =
  /^[A-Za-z]{0,4}[0-9]{1,6}\s+(?:UID\s+)?(?:LOGIN|SELECT|EXAMINE|FETCH|STORE|COPY|MOVE|LIST|LSUB|SEARCH|APPEND|STATUS|AUTHENTICATE|LOGOUT|CREATE|DELETE|RENAME|EXPUNGE|CAPABILITY|SUBSCRIBE|CLOSE|QUIT)\b(.{0,200})/i
const imapArgument = /^\s*$|INBOX|\d+:[\d*]+|\(|"|\{\d+\}|\b(?:PLAIN|LOGIN|SINCE|CHARSET|FLAGS|MESSAGES)\b|^\s+\d+\s/i
const pop3 =
  /^(?:(?:RETR|DELE|LIST|TOP|UIDL)\s+\d+(?:\s+\d+)?|APOP\s+\S+\s+[0-9a-f]{32}|AUTH\s+(?:PLAIN|LOGIN|CRAM-MD5|XOAUTH2|\S+\s+[A-Za-z0-9+/]{8,}={0,2}))\s*$/i

/** The first line after a leading line break, judged as a mail protocol command. */
export function mailCommand(value: string): boolean {
  // `textarea=\r\n…`: form data sent as plain text
  let i = /^[\w.-]{1,40}=[\r\n]/.test(value) ? value.indexOf('=') + 1 : 0
  const start = i
  while (i < value.length && i < start + 8 && (value[i] === '\r' || value[i] === '\n')) i++
  if (i === start) {
    // an address command is unmistakable on any line after the first
    const nl = value.indexOf('\n')
    return nl !== -1 && /\n[ \t]*(?:MAIL\s+FROM|RCPT\s+TO)\s*:\s*</i.test(value)
  }
  const end = value.indexOf('\n', i)
  const line = value.slice(i, end === -1 ? Math.min(value.length, i + 300) : end).replace(/\r$/, '')
  if (smtpAddress.test(line) || smtpBare.test(line) || pop3.test(line)) return true
  const m = imap.exec(line)
  return m !== null && imapArgument.test(m[1]!)
}
