/**
 * `npm start` / `peerbridge serve`: loads the configuration and the validator, then listens.
 */
import { loadConfig } from './config';
import { createApp } from './http/app';
import { Validator } from './validation';

export async function serve(): Promise<void> {
  const config = loadConfig();
  const started = performance.now();
  const validator = Validator.create();
  const app = createApp({
    validator,
    config,
    log: (level, message, meta) => console[level === 'info' ? 'log' : level](JSON.stringify({ level, message, ...meta })),
  });
  await new Promise<void>((resolve) => {
    const server = app.listen(config.PORT, config.HOST, () => {
      const ms = Math.round(performance.now() - started);
      console.log(`PeerBridge listening on http://localhost:${config.PORT}/fhir (${validator.profileUrls().length} profiles loaded in ${ms} ms)`);
      resolve();
    });
    const stop = (): void => {
      server.close(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

if (require.main === module) {
  serve().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
