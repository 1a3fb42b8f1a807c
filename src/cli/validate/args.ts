/**
 * `peerbridge validate`'s command line: its options, their defaults and its help text
 * (src/cli/validate.ts runs it).
 */
import { availableParallelism } from 'node:os';

/** Files larger than this are refused with an invalid verdict (override with --max-bytes). */
const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;
/**
 * Without --threads, workers are used only for this much JSON or more: a worker costs about a
 * quarter of a second of CPU to start (load the validator, warm up; 0.26 s measured, compiled), about
 * what validating 3 MB in one thread costs, so smaller runs are faster in this thread; at 16 MB two
 * free cores should give about 1.4x, eight about 3x.
 */
export const AUTO_WORKERS_MIN_BYTES = 16 * 1024 * 1024;

export type Level = 'error' | 'warning' | 'information';

export const VALIDATE_HELP = `Usage: peerbridge validate <file|dir>... [options]

Validates FHIR R4 JSON resources (files, or every .json file below a directory) against the base
specification and the profiles in meta.profile. Exit code: 0 all valid, 1 any invalid, 2 usage or I/O error.
Each issue is shown as file:line:col, and carries its line and column in JSON output.
In directories, JSON files that are not FHIR resources (no resourceType) are skipped with a note.

Options:
  --profile <url>          also validate against this profile (canonical URL; an unknown one is an error)
  --strict-profiles        an unknown profile in meta.profile is an error (default: a warning, and the
                           resource is checked against its base type, as validator_cli does)
  --ig <tgz|folder|name#version>
                           load an implementation guide package (repeatable): a .tgz, a package folder, or
                           name#version from the package cache (PEERBRIDGE_PACKAGE_CACHE, ~/.fhir/packages);
                           its dependencies are loaded when found, a missing one is a warning
  --format text|json       text (default): a verdict line per file and a line per issue;
                           json: one line per file, {"file","valid","outcome"}
  --output <file>          also write the OperationOutcome there (several files: a Bundle of them,
                           each naming its file in the operationoutcome-file extension)
  --level error|warning|information
                           show only issues at this severity or above (default: information, all)
  --threads <n>            worker threads (1: all in this thread). Default: one per core (${availableParallelism()} here)
                           when the files add up to ${AUTO_WORKERS_MIN_BYTES / 1048576} MB or more, else 1.
                           Results and their order do not depend on it.
  --max-bytes <n>          refuse files larger than this (default ${DEFAULT_MAX_BYTES})
  --no-progress            no progress bar (shown for directories when stdout and stderr are a terminal)
  -h, --help               this help
`;

export interface ValidateArgs {
  paths: string[];
  format: 'text' | 'json';
  profile?: string;
  /** An unknown profile in meta.profile is an error (--strict-profiles). */
  strictProfiles: boolean;
  /** Implementation guide packages to load (--ig). */
  igs: string[];
  maxBytes: number;
  output?: string;
  level: Level;
  /** Undefined: chosen by the size of the work (AUTO_WORKERS_MIN_BYTES). */
  threads?: number;
  progress: boolean;
  help: boolean;
}

class UsageError extends Error {}

export function parseArgs(args: string[]): ValidateArgs {
  const paths: string[] = [];
  const igs: string[] = [];
  let format: 'text' | 'json' = 'text';
  let profile: string | undefined;
  let maxBytes = DEFAULT_MAX_BYTES;
  let output: string | undefined;
  let level: Level = 'information';
  let threads: number | undefined;
  let progress = true;
  let strictProfiles = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = (): string => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i];
      if (v === undefined) {
        throw new UsageError(`${a} needs a value`);
      }
      return v;
    };
    if (a === '--format' || a.startsWith('--format=')) {
      const v = value();
      if (v !== 'text' && v !== 'json') {
        throw new UsageError(`--format must be text or json, not '${v}'`);
      }
      format = v;
    } else if (a === '--profile' || a.startsWith('--profile=')) {
      profile = value();
    } else if (a === '--ig' || a.startsWith('--ig=')) {
      igs.push(value());
    } else if (a === '--max-bytes' || a.startsWith('--max-bytes=')) {
      maxBytes = Number(value());
      if (!Number.isInteger(maxBytes) || maxBytes <= 0) {
        throw new UsageError('--max-bytes must be a positive integer');
      }
    } else if (a === '--output' || a.startsWith('--output=')) {
      output = value();
    } else if (a === '--level' || a.startsWith('--level=')) {
      const v = value();
      if (v !== 'error' && v !== 'warning' && v !== 'information') {
        throw new UsageError(`--level must be error, warning or information, not '${v}'`);
      }
      level = v;
    } else if (a === '--threads' || a.startsWith('--threads=')) {
      const n = Number(value());
      threads = n;
      if (!Number.isInteger(n) || n <= 0) {
        throw new UsageError('--threads must be a positive integer');
      }
    } else if (a === '--strict-profiles') {
      strictProfiles = true;
    } else if (a === '--no-progress') {
      progress = false;
    } else if (a === '--help' || a === '-h') {
      return { paths, format, profile, strictProfiles, igs, maxBytes, output, level, threads, progress, help: true };
    } else if (a.startsWith('-')) {
      throw new UsageError(`Unknown option '${a}'`);
    } else {
      paths.push(a);
    }
  }
  if (paths.length === 0) {
    throw new UsageError('Give at least one file or directory to validate');
  }
  return { paths, format, profile, strictProfiles, igs, maxBytes, output, level, threads, progress, help: false };
}
