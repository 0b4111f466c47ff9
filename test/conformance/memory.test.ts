// The conformance harness on the in-memory store.
import { startTestServer } from '../helpers/server.js';
import { registerConformance } from './harness.js';

registerConformance({
  backend: 'memory',
  async start() {
    const server = await startTestServer({ storage: 'memory' });
    return { server, stop: () => server.stop() };
  },
});
