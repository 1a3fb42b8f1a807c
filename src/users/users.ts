/**
 * Console users (`console_user`): people who sign in to the console, each with a name, the
 * organizations (tenants) whose records they may see, and a role (roles.ts). Passwords are hashed
 * with argon2id (npm `argon2`, its defaults: OWASP's minimum is met) and only the hash is kept.
 *
 * `verify` takes about the same time whether the name is known or not (an unknown name is checked
 * against a hash of a random password), so timing does not tell which names exist.
 */
import { randomBytes } from 'node:crypto';
import * as argon2 from 'argon2';
import type { SqlDriver } from '../store/repository';
import { ALL_ORGANIZATIONS } from '../auth/clients';
import { isRole, ROLES, type Role } from './roles';
import { migrateUsers } from './schema';

export interface User {
  name: string;
  organizations: string[];
  role: Role;
  /** May create records under ids of its own (update-as-create), as a client with --assign-ids: ingest needs it. */
  assignIds: boolean;
  createdAt: Date;
  passwordChangedAt: Date;
}

export interface NewUser {
  name: string;
  password: string;
  organizations: string[];
  role: string;
  assignIds?: boolean;
}

/** A user not added or changed, for the listed reasons. */
export class UserValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`User not saved:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Names: letters, digits and `. _ @ -`, starting with a letter or digit; kept in lower case. */
const NAME_RE = /^[a-z0-9][a-z0-9._@-]{0,63}$/;
const ORG_RE = /^[A-Za-z0-9\-.]{1,64}$/;
export const MIN_PASSWORD_CHARS = 12;
export const MAX_PASSWORD_CHARS = 1024;

/** The stored form of a user name (names are not case-sensitive). */
export function normalName(name: string): string {
  return name.trim().toLowerCase();
}

export function nameProblems(name: string): string[] {
  return NAME_RE.test(name) ? [] : [`name '${name}' must be 1 to 64 letters, digits or . _ @ -, starting with a letter or digit`];
}

export function passwordProblems(password: string): string[] {
  if (typeof password !== 'string' || password.length < MIN_PASSWORD_CHARS) return [`the password must have at least ${MIN_PASSWORD_CHARS} characters`];
  if (password.length > MAX_PASSWORD_CHARS) return [`the password may have at most ${MAX_PASSWORD_CHARS} characters`];
  return [];
}

interface UserRow {
  name: string;
  password_hash: string;
  organizations: string[];
  role: string;
  assign_ids: boolean;
  created_at: Date | string;
  password_changed_at: Date | string;
}

const COLUMNS = 'name, password_hash, organizations, role, assign_ids, created_at, password_changed_at';

function toUser(row: UserRow): User {
  return {
    name: row.name,
    organizations: [...row.organizations],
    role: isRole(row.role) ? row.role : 'viewer',
    assignIds: row.assign_ids === true,
    createdAt: new Date(row.created_at),
    passwordChangedAt: new Date(row.password_changed_at),
  };
}

export interface UserStoreOptions {
  /** argon2 settings (tests lower the cost); default argon2id with the library's defaults. */
  hash?: argon2.HashOptions;
}

export class UserStore {
  private dummyHash: Promise<string> | undefined;

  private constructor(
    private readonly driver: SqlDriver,
    private readonly hashOptions: argon2.HashOptions,
  ) {}

  /** Creates the console tables when missing and opens the store. */
  static async open(driver: SqlDriver, options: UserStoreOptions = {}): Promise<UserStore> {
    await migrateUsers(driver);
    return new UserStore(driver, { type: argon2.argon2id, ...options.hash });
  }

  private hash(password: string): Promise<string> {
    return argon2.hash(password, this.hashOptions);
  }

  /** Adds a user; throws UserValidationError listing every problem (a name taken is one). */
  async add(input: NewUser): Promise<User> {
    const name = normalName(input.name ?? '');
    const problems = [...nameProblems(name), ...passwordProblems(input.password), ...organizationProblems(input.organizations)];
    if (!isRole(input.role)) problems.push(`role '${String(input.role)}' must be one of ${ROLES.join(', ')}`);
    if (problems.length === 0 && (await this.get(name)))
      problems.push(`a user named '${name}' exists (peerbridge users passwd ${name} to change the password)`);
    if (problems.length > 0) throw new UserValidationError(problems);
    const res = await this.driver.query<UserRow>(
      `INSERT INTO console_user (name, password_hash, organizations, role, assign_ids) VALUES ($1, $2, $3::text[], $4, $5)
       ON CONFLICT (name) DO NOTHING RETURNING ${COLUMNS}`,
      [name, await this.hash(input.password), [...new Set(input.organizations)], input.role, input.assignIds === true],
    );
    if (!res.rows[0]) throw new UserValidationError([`a user named '${name}' exists`]);
    return toUser(res.rows[0]);
  }

  async get(name: string): Promise<User | undefined> {
    if (typeof name !== 'string' || name.length > 200) return undefined;
    const res = await this.driver.query<UserRow>(`SELECT ${COLUMNS} FROM console_user WHERE name = $1`, [normalName(name)]);
    return res.rows[0] ? toUser(res.rows[0]) : undefined;
  }

  async list(): Promise<User[]> {
    const res = await this.driver.query<UserRow>(`SELECT ${COLUMNS} FROM console_user ORDER BY name`);
    return res.rows.map(toUser);
  }

  /** Removes a user and their sessions; true when the user existed. */
  async remove(name: string): Promise<boolean> {
    return this.driver.transaction(async (tx) => {
      const n = normalName(name);
      await tx.query('DELETE FROM console_session WHERE user_name = $1', [n]);
      await tx.query('DELETE FROM console_login_failure WHERE user_name = $1', [n]);
      return (await tx.query('DELETE FROM console_user WHERE name = $1', [n])).rowCount > 0;
    });
  }

  /** Sets a new password and ends the user's sessions; false when there is no such user. */
  async setPassword(name: string, password: string): Promise<boolean> {
    const problems = passwordProblems(password);
    if (problems.length > 0) throw new UserValidationError(problems);
    const hash = await this.hash(password);
    return this.driver.transaction(async (tx) => {
      const n = normalName(name);
      const res = await tx.query('UPDATE console_user SET password_hash = $2, password_changed_at = now() WHERE name = $1', [n, hash]);
      await tx.query('DELETE FROM console_session WHERE user_name = $1', [n]);
      await tx.query('DELETE FROM console_login_failure WHERE user_name = $1', [n]);
      return res.rowCount > 0;
    });
  }

  /** The user when the name and password match, else undefined (in about the same time either way). */
  async verify(name: string, password: string): Promise<User | undefined> {
    const n = normalName(typeof name === 'string' ? name : '');
    const res = n && n.length <= 64 ? await this.driver.query<UserRow>(`SELECT ${COLUMNS} FROM console_user WHERE name = $1`, [n]) : undefined;
    const row = res?.rows[0];
    const pw = typeof password === 'string' ? password.slice(0, MAX_PASSWORD_CHARS + 1) : '';
    if (!row) {
      this.dummyHash ??= this.hash(randomBytes(24).toString('base64url'));
      await argon2.verify(await this.dummyHash, pw).catch(() => false);
      return undefined;
    }
    const ok = await argon2.verify(row.password_hash, pw).catch(() => false);
    if (!ok) return undefined;
    // A hash made with weaker settings than today's is replaced while the password is at hand.
    const { timeCost, memoryCost, parallelism } = this.hashOptions;
    if (argon2.needsRehash(row.password_hash, { timeCost, memoryCost, parallelism })) {
      await this.driver.query('UPDATE console_user SET password_hash = $2 WHERE name = $1 AND password_hash = $3', [
        row.name,
        await this.hash(pw),
        row.password_hash,
      ]);
    }
    return toUser(row);
  }
}

export function organizationProblems(organizations: readonly string[] | undefined): string[] {
  const list = organizations ?? [];
  const problems: string[] = [];
  if (list.length === 0) problems.push(`give at least one --org (an Organization id, or '${ALL_ORGANIZATIONS}' for every organization)`);
  for (const org of list) {
    if (typeof org !== 'string' || (org !== ALL_ORGANIZATIONS && !ORG_RE.test(org))) {
      problems.push(`organization '${String(org)}' is not a FHIR id ([A-Za-z0-9-.], 1 to 64 characters) nor '${ALL_ORGANIZATIONS}' (every organization)`);
    }
  }
  return problems;
}
