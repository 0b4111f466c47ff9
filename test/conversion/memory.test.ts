// storm.apache.org v1alpha1 beside v1beta1 on the in-memory store.
import { startTestServer } from '../helpers/server.js';
import { registerVersionCases } from './cases.js';

registerVersionCases({
  backend: 'memory',
  async start() {
    const server = await startTestServer({ storage: 'memory' });
    return { server, stop: () => server.stop() };
  },
});
