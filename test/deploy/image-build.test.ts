// The container image's build (Dockerfile → `npm run build:image` → tsconfig.build.json) compiles
// only what the server runs: no source under test/ or hack/ may be reached from it, and every
// folder it does reach is copied into the build stage. (No docker here: the Dockerfile is read,
// and tsc lists the program's files without compiling.)
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/** The project's own source files (relative paths) the image's build compiles. */
function imageSources(): string[] {
  const listed = execFileSync(process.execPath, [TSC, '-p', join(ROOT, 'tsconfig.build.json'), '--listFilesOnly'], { cwd: ROOT, encoding: 'utf8' });
  return listed
    .split('\n')
    .map((line) => line.trim())
    .filter((file) => file !== '' && !file.includes(`${sep}node_modules${sep}`) && !file.includes('/node_modules/'))
    .map((file) => relative(ROOT, file));
}

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
/** What the build stage copies in: the sources of `COPY <src> <dest>` lines before the first runtime stage. */
const buildStage = dockerfile.split(/^FROM /m)[1] ?? '';
const copied = [...buildStage.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((m) => m[1].trim().split(/\s+/).slice(0, -1));

test('the image build (tsconfig.build.json) reaches no test/ or hack/ source, and starts at apiserver/main.ts', (t) => {
  const sources = imageSources();
  t.true(sources.includes(join('apiserver', 'main.ts')), 'the entry point is compiled');
  t.deepEqual(
    sources.filter((f) => f.startsWith(`test${sep}`) || f.startsWith(`hack${sep}`)),
    [],
    'a server source imports something under test/ or hack/',
  );
});

test('the Dockerfile copies every folder the image build compiles, builds with build:image, and copies no test/', (t) => {
  const folders = [...new Set(imageSources().map((f) => f.split(sep)[0]))].sort();
  for (const folder of folders) t.true(copied.includes(folder), `COPY ${folder} is missing from the build stage`);
  t.true(copied.includes('tsconfig.build.json'));
  t.false(copied.includes('test'), 'the build stage copies test/');
  t.regex(buildStage, /^RUN npm run build:image\b/m);
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  t.regex(scripts['build:image'] ?? '', /tsc -p tsconfig\.build\.json/);
});
