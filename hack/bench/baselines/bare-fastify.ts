// The baseline for HTTP figures: bare fastify, no plugins, serving a fixed JSON body with the
// same TLS setting as the API server (its serving certificate, client certificates requested and
// checked against its CA, TLS 1.2+). Run as its own process, like the server it stands beside:
//   node dist/hack/bench/baselines/bare-fastify.js <certDir> <bodyFile>
// Prints `listening https://127.0.0.1:PORT` once it accepts connections.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';

const [certDir, bodyFile] = process.argv.slice(2);
if (!certDir || !bodyFile) {
  process.stderr.write('usage: bare-fastify.js <certDir> <bodyFile>\n');
  process.exit(2);
}
const body = readFileSync(bodyFile);
const app = Fastify({
  https: {
    cert: readFileSync(join(certDir, 'apiserver.crt')),
    key: readFileSync(join(certDir, 'apiserver.key')),
    ca: readFileSync(join(certDir, 'ca.crt')),
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
  },
  logger: false,
});
app.get('/*', (_request, reply) => {
  void reply.header('content-type', 'application/json').send(body);
});
app.post('/*', (_request, reply) => {
  void reply.code(201).header('content-type', 'application/json').send(body);
});
const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening ${address}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
