/**
 * Server-side console sessions (`console_session`) and the sign-in lock-out
 * (`console_login_failure`).
 *
 * A session id is 256 random bits (base64url) that only the cookie holds; the table keeps its
 * SHA-256, so reading the table opens no session. A session ends at sign-out, after
 * `idleMinutes` without a request, `maxHours` after sign-in, when its user is removed or their
 * password changes. Each session has a random CSRF token the console sends back in `X-CSRF-Token`.
 * Timeouts are computed by the database clock (`now()`), the same for every process.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { SqlDriver } from '../store/repository';
import { isRole, type Role } from './roles';

export interface Session {
  /** SHA-256 of the id (hex): what the table keys on. */
  idHash: string;
  userName: string;
  organizations: string[];
  role: Role;
  /** The user may create records under ids of its own (console_user.assign_ids). */
  assignIds: boolean;
  csrfToken: string;
  createdAt: Date;
}

export interface SessionOptions {
  idleMinutes: number;
  maxHours: number;
}

export interface LockoutOptions {
  /** Failures within the window that lock the name. */
  maxFailures: number;
  windowMinutes: number;
}

const hashId = (id: string): string => createHash('sha256').update(id, 'utf8').digest('hex');
/** Looks like one of our ids: 43 base64url characters (256 bits). */
const ID_RE = /^[A-Za-z0-9_-]{43}$/;

interface SessionRow {
  id_hash: string;
  user_name: string;
  organizations: string[];
  role: string;
  assign_ids: boolean;
  csrf_token: string;
  created_at: Date | string;
}

export class SessionStore {
  private lastPrune = 0;

  constructor(
    private readonly driver: SqlDriver,
    readonly options: SessionOptions,
    readonly lockout: LockoutOptions = { maxFailures: 5, windowMinutes: 15 },
  ) {}

  /** Starts a session for a user; returns the id for the cookie (never stored) and the session. */
  async create(userName: string): Promise<{ id: string; session: Session }> {
    await this.pruneNow();
    const id = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    await this.driver.query('INSERT INTO console_session (id_hash, user_name, csrf_token) VALUES ($1, $2, $3)', [hashId(id), userName, csrf]);
    const session = await this.get(id, false);
    if (!session) throw new Error('console session not found after it was created');
    return { id, session };
  }

  /**
   * The live session of a cookie value (its user's current organizations and role), or
   * undefined. `touch` records the use (the idle timeout starts again).
   */
  async get(id: string | undefined, touch = true): Promise<Session | undefined> {
    if (typeof id !== 'string' || !ID_RE.test(id)) return undefined;
    const res = await this.driver.query<SessionRow>(
      `SELECT s.id_hash, s.user_name, u.organizations, u.role, u.assign_ids, s.csrf_token, s.created_at
         FROM console_session s JOIN console_user u ON u.name = s.user_name
        WHERE s.id_hash = $1
          AND s.last_seen > now() - make_interval(secs => $2::float8)
          AND s.created_at > now() - make_interval(secs => $3::float8)`,
      [hashId(id), this.options.idleMinutes * 60, this.options.maxHours * 3600],
    );
    const row = res.rows[0];
    if (!row || !isRole(row.role)) return undefined;
    if (touch) await this.driver.query('UPDATE console_session SET last_seen = now() WHERE id_hash = $1', [row.id_hash]);
    return {
      idHash: row.id_hash,
      userName: row.user_name,
      organizations: [...row.organizations],
      role: row.role,
      assignIds: row.assign_ids === true,
      csrfToken: row.csrf_token,
      createdAt: new Date(row.created_at),
    };
  }

  /** Ends a session (sign-out); true when it existed. */
  async delete(id: string | undefined): Promise<boolean> {
    if (typeof id !== 'string' || !ID_RE.test(id)) return false;
    return (await this.driver.query('DELETE FROM console_session WHERE id_hash = $1', [hashId(id)])).rowCount > 0;
  }

  /** Seconds the name stays locked out (0: not locked): `maxFailures` failures within the window. */
  async lockedFor(userName: string): Promise<number> {
    const res = await this.driver.query<{ wait: number | string | null }>(
      `SELECT ceil(extract(epoch FROM (min(at) + make_interval(secs => $2::float8) - now())))::int AS wait
         FROM (SELECT at FROM console_login_failure WHERE user_name = $1 AND at > now() - make_interval(secs => $2::float8)
               ORDER BY at DESC LIMIT $3) recent
       HAVING count(*) >= $3`,
      [userName, this.lockout.windowMinutes * 60, this.lockout.maxFailures],
    );
    const wait = Number(res.rows[0]?.wait ?? 0);
    return wait > 0 ? wait : 0;
  }

  /** Records a failed sign-in for a name (known or not). */
  async recordFailure(userName: string): Promise<void> {
    await this.driver.query('INSERT INTO console_login_failure (user_name) VALUES ($1)', [userName]);
  }

  /** A successful sign-in forgets the name's failures. */
  async clearFailures(userName: string): Promise<void> {
    await this.driver.query('DELETE FROM console_login_failure WHERE user_name = $1', [userName]);
  }

  /** Deletes expired sessions and old failures (at most once a minute, on sign-in). */
  private async pruneNow(): Promise<void> {
    if (Date.now() - this.lastPrune < 60_000) return;
    this.lastPrune = Date.now();
    await this.driver.query(
      `DELETE FROM console_session WHERE last_seen < now() - make_interval(secs => $1::float8) OR created_at < now() - make_interval(secs => $2::float8)`,
      [this.options.idleMinutes * 60, this.options.maxHours * 3600],
    );
    await this.driver.query('DELETE FROM console_login_failure WHERE at < now() - make_interval(secs => $1::float8)', [this.lockout.windowMinutes * 60]);
  }
}
