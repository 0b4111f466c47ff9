// The storage conformance suite on the memory driver: a fresh store per test.
import { openMemoryBackend } from '../../registry/storage/memory.js';
import { registerStorageConformance } from './cases.js';

registerStorageConformance('memory', {
  open: async () => ({ backend: await openMemoryBackend() }),
});
