/** Users in SQLite. Usernames and emails are unique case-insensitively (NFKC, lower case). */
import { StorageConflict } from '../../errors.js'
import type { NewUser, User, UserPatch, UserStore } from '../types.js'
import type { SqliteDb } from './database.js'
import { identityKey } from '../identity-key.js'

interface Row {
  id: string
  username: string
  email: string | null
  password_hash: string
  roles: string
  disabled: number
  created_at: number
  updated_at: number
}

function toUser(r: Row | undefined): User | null {
  if (r === undefined) return null
  return {
    id: r.id,
    username: r.username,
    email: r.email,
    password_hash: r.password_hash,
    roles: JSON.parse(r.roles) as string[],
    disabled: r.disabled === 1,
    created_at: r.created_at,
    updated_at: r.updated_at,
  }
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' || (err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
}

const columns = 'id, username, email, password_hash, roles, disabled, created_at, updated_at'

export class SqliteUserStore implements UserStore {
  readonly #db: SqliteDb

  constructor(db: SqliteDb) {
    this.#db = db
  }

  async create(u: NewUser): Promise<User> {
    try {
      this.#db
        .prepare(
          `INSERT INTO users (id, username, username_key, email, email_key, password_hash, roles, disabled, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          u.id,
          u.username,
          identityKey(u.username),
          u.email,
          u.email === null ? null : identityKey(u.email),
          u.password_hash,
          JSON.stringify(u.roles),
          u.disabled ? 1 : 0,
          u.created_at,
          u.created_at,
        )
    } catch (err) {
      if (isUniqueViolation(err)) throw new StorageConflict('username or email already taken')
      throw err
    }
    return { ...u, updated_at: u.created_at }
  }

  async byId(id: string): Promise<User | null> {
    return toUser(this.#db.prepare(`SELECT ${columns} FROM users WHERE id = ?`).get(id) as Row | undefined)
  }

  async byUsername(username: string): Promise<User | null> {
    return toUser(this.#db.prepare(`SELECT ${columns} FROM users WHERE username_key = ?`).get(identityKey(username)) as Row | undefined)
  }

  async list(): Promise<User[]> {
    return (this.#db.prepare(`SELECT ${columns} FROM users ORDER BY username_key`).all() as Row[]).map((r) => toUser(r)!)
  }

  async update(id: string, patch: UserPatch, now: number): Promise<User | null> {
    const sets: string[] = ['updated_at = @now']
    const params: Record<string, unknown> = { id, now }
    if (patch.email !== undefined) {
      sets.push('email = @email', 'email_key = @email_key')
      params['email'] = patch.email
      params['email_key'] = patch.email === null ? null : identityKey(patch.email)
    }
    if (patch.password_hash !== undefined) {
      sets.push('password_hash = @password_hash')
      params['password_hash'] = patch.password_hash
    }
    if (patch.roles !== undefined) {
      sets.push('roles = @roles')
      params['roles'] = JSON.stringify(patch.roles)
    }
    if (patch.disabled !== undefined) {
      sets.push('disabled = @disabled')
      params['disabled'] = patch.disabled ? 1 : 0
    }
    try {
      const r = this.#db.prepare(`UPDATE users SET ${sets.join(', ')} WHERE id = @id`).run(params)
      if (r.changes === 0) return null
    } catch (err) {
      if (isUniqueViolation(err)) throw new StorageConflict('email already taken')
      throw err
    }
    return this.byId(id)
  }

  async delete(id: string): Promise<boolean> {
    return this.#db.prepare('DELETE FROM users WHERE id = ?').run(id).changes > 0
  }
}
