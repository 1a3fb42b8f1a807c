/**
 * The `peerbridge` command line.
 *   peerbridge validate <file|dir>... [--format text|json]   exit 0 valid, 1 invalid, 2 usage or I/O error
 *   peerbridge translate --mapping canonical <input> [--out f] [--report f]   exit 0 all accepted, 1 any rejected, 2 usage/I/O
 *   peerbridge serve                                        same as npm start
 */
import { translateCommand } from './cli/translate';
import { validateCommand } from './cli/validate';

const USAGE = `Usage:
  peerbridge validate <file|dir>... [--format text|json] [--profile <url>]
  peerbridge translate --mapping canonical <input|-> [--out <file>] [--report <file>] [--format text|json]
  peerbridge serve
`;

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'validate':
      return validateCommand(rest, out, err);
    case 'translate':
      return translateCommand(rest, out, err);
    case 'serve': {
      const { serve } = await import('./server');
      await serve();
      return new Promise<number>(() => undefined);
    }
    case '--help':
    case '-h':
    case 'help':
      out.write(USAGE);
      return 0;
    default:
      err.write(command ? `Unknown command '${command}'\n${USAGE}` : USAGE);
      return 2;
  }
}
