// Copies checked-in generated code that tsc does not emit (the Nimbus Thrift client, CommonJS)
// into dist/, so dist/ runs on its own (e.g. in the container image). Run by `npm run build`.
import { cpSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
for (const dir of ['controllers/storm/nimbus/gen']) {
  const from = join(root, dir);
  if (existsSync(from)) cpSync(from, join(root, 'dist', dir), { recursive: true });
}
