/**
 * The server's log: one JSON object per line, `{"time","level","msg",...}`, filtered by
 * LOG_LEVEL (`debug` < `info` < `warn` < `error`): debug and info lines go to stdout, warn and
 * error to stderr, request lines (src/http/request-log.ts) always to stdout. Only the server
 * (src/server.ts) makes one; apps built by tests log nothing unless a test passes its own.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';

const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Where lines go: `(line, level, toStdout)`; default: stdout or stderr. */
export type LineWriter = (line: string, level: Level, toStdout: boolean) => void;

export interface Logger {
  /** The `Log` every module takes (`(level, message, meta)`). */
  (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
  /** Would a line of this level be written? */
  enabled(level: Level): boolean;
  /** A request line (stdout whatever its level). */
  request(level: Level, fields: Record<string, unknown>): void;
  readonly level: Level;
}

const defaultWriter: LineWriter = (line, _level, toStdout) => {
  (toStdout ? process.stdout : process.stderr).write(`${line}\n`);
};

/** A logger writing lines of `level` and above. */
export function createLogger(level: Level = 'info', write: LineWriter = defaultWriter): Logger {
  const enabled = (l: Level): boolean => RANK[l] >= RANK[level];
  const emit = (l: Level, message: string, meta: Record<string, unknown> | undefined, toStdout: boolean): void => {
    if (!enabled(l)) return;
    let line: string;
    try {
      line = JSON.stringify({ time: new Date().toISOString(), level: l, msg: message, ...meta });
    } catch {
      line = JSON.stringify({ time: new Date().toISOString(), level: l, msg: message });
    }
    write(line, l, toStdout);
  };
  const log = ((l: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>) => emit(l, message, meta, l === 'info')) as Logger;
  log.debug = (message, meta) => emit('debug', message, meta, true);
  log.enabled = enabled;
  log.request = (l, fields) => emit(l, 'request', fields, true);
  Object.defineProperty(log, 'level', { value: level });
  return log;
}
