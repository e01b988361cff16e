/** Users in PostgreSQL. Usernames and emails are unique case-insensitively (NFKC, lower case), as in SQLite. */
import { StorageConflict } from '../../errors.js'
import type { NewUser, User, UserPatch, UserStore } from '../types.js'
import type { PostgresDb } from './database.js'
import { identityKey } from '../identity-key.js'

const columns = 'id, username, email, password_hash, roles, disabled, created_at, updated_at'

function toUser(r: User | undefined): User | null {
  return r === undefined ? null : { ...r }
}

export class PostgresUserStore implements UserStore {
  readonly #db: PostgresDb

  constructor(db: PostgresDb) {
    this.#db = db
  }

  async create(u: NewUser): Promise<User> {
    await this.#db.query(
      `INSERT INTO users (id, username, username_key, email, email_key, password_hash, roles, disabled, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
      [
        u.id,
        u.username,
        identityKey(u.username),
        u.email,
        u.email === null ? null : identityKey(u.email),
        u.password_hash,
        JSON.stringify(u.roles),
        u.disabled,
        u.created_at,
      ],
    )
    return { ...u, updated_at: u.created_at }
  }

  async byId(id: string): Promise<User | null> {
    return toUser((await this.#db.query<User>(`SELECT ${columns} FROM users WHERE id = $1`, [id])).rows[0])
  }

  async byUsername(username: string): Promise<User | null> {
    return toUser((await this.#db.query<User>(`SELECT ${columns} FROM users WHERE username_key = $1`, [identityKey(username)])).rows[0])
  }

  async list(): Promise<User[]> {
    // COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.
    return (await this.#db.query<User>(`SELECT ${columns} FROM users ORDER BY username_key COLLATE "C"`)).rows
  }

  async update(id: string, patch: UserPatch, now: number): Promise<User | null> {
    const sets: string[] = ['updated_at = $2']
    const params: unknown[] = [id, now]
    const set = (column: string, value: unknown) => {
      params.push(value)
      sets.push(`${column} = $${params.length}`)
    }
    if (patch.email !== undefined) {
      set('email', patch.email)
      set('email_key', patch.email === null ? null : identityKey(patch.email))
    }
    if (patch.password_hash !== undefined) set('password_hash', patch.password_hash)
    if (patch.roles !== undefined) set('roles', JSON.stringify(patch.roles))
    if (patch.disabled !== undefined) set('disabled', patch.disabled)
    try {
      const r = await this.#db.query<User>(`UPDATE users SET ${sets.join(', ')} WHERE id = $1 RETURNING ${columns}`, params)
      return toUser(r.rows[0])
    } catch (err) {
      if (err instanceof StorageConflict) throw new StorageConflict('email already taken')
      throw err
    }
  }

  async delete(id: string): Promise<boolean> {
    return ((await this.#db.query('DELETE FROM users WHERE id = $1', [id])).rowCount ?? 0) > 0
  }
}
