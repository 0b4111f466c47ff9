// The conformance harness on the embedded SQLite store (the zero-setup default), in a temp dir.
import { startTestServer } from '../helpers/server.js';
import { registerConformance } from './harness.js';

registerConformance({
  backend: 'sqlite',
  async start() {
    const server = await startTestServer();
    if (server.backend.name !== 'sqlite') throw new Error(`expected the sqlite backend, got ${server.backend.name}`);
    return { server, stop: () => server.stop() };
  },
});
