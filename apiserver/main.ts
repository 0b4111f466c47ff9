import { completeOptions, OptionsError, parseOptions, USAGE } from './options.js';
import { startServer } from './server.js';

async function main(): Promise<void> {
  let options;
  try {
    const raw = parseOptions(process.argv.slice(2));
    if (raw.help) {
      process.stdout.write(USAGE);
      return;
    }
    options = completeOptions(raw);
  } catch (err) {
    if (!(err instanceof OptionsError)) throw err;
    process.stderr.write(`error: ${err.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const server = await startServer(options);
  server.app.log.info(
    { url: server.url, storage: options.storage.url, kubeconfig: options.writeKubeconfig || undefined },
    'serving',
  );
  if (server.insecureUrl) {
    server.app.log.warn(
      { insecureUrl: server.insecureUrl },
      'also serving plaintext HTTP without authentication (--insecure-port): every request there is the super-user system:unsecured; local development only',
    );
  }
  server.ready.then(
    () => server.app.log.info('watch caches synced: ready'),
    () => {},
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (err) => {
        server.app.log.error(err, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err) => {
  process.stderr.write(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
