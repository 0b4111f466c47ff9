// storm.apache.org v1alpha1 beside v1beta1 on the embedded SQLite store.
import { startTestServer } from '../helpers/server.js';
import { registerVersionCases } from './cases.js';

registerVersionCases({
  backend: 'sqlite',
  async start() {
    const server = await startTestServer();
    if (server.backend.name !== 'sqlite') throw new Error(`expected the sqlite backend, got ${server.backend.name}`);
    return { server, stop: () => server.stop() };
  },
});
