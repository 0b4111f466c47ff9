// Unknown-field detection for rendered manifests. kubernetes-models' validators check types,
// required fields and formats but accept any extra key, so a typo (`readinesProbe`) would pass.
// The library's type declarations list every field of every type; this walks an object along
// them (`"minReadySeconds"?: number;`, `Array<IIoK8sApiCoreV1Container>`) and reports the keys
// its type does not have. Types it cannot follow (maps, unions, aliases) are not looked into.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

type Fields = Map<string, string>;

function declarationFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...declarationFiles(path));
    else if (entry.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

let index: Map<string, Fields> | undefined;

/** Exported interface name (`IIoK8sApiAppsV1DeploymentSpec`) → field name → declared type. */
function typeIndex(): Map<string, Fields> {
  if (index) return index;
  const require = createRequire(import.meta.url);
  const roots = [dirname(require.resolve('kubernetes-models/package.json')), dirname(require.resolve('@kubernetes-models/apimachinery/package.json'))];
  index = new Map();
  for (const file of roots.flatMap(declarationFiles)) {
    const text = readFileSync(file, 'utf8');
    const body = /^export interface (I\w+)(?: extends [^{]+)? \{\n([\s\S]*?)\n\}/m.exec(text);
    if (!body) continue;
    const alias = new RegExp(`export \\{ ${body[1]} as (I\\w+)`).exec(text)?.[1];
    const fields: Fields = new Map();
    for (const m of body[2].matchAll(/^ {4}"([^"]+)"\??: (.+?);?$/gm)) fields.set(m[1], m[2]);
    index.set(alias ?? body[1], fields);
  }
  return index;
}

/** The exported interface name of `apiVersion`/`kind` (`IIoK8sApiAppsV1Deployment`), if the library has it. */
export function rootTypeOf(apiVersion: string, kind: string): string | undefined {
  const require = createRequire(import.meta.url);
  const groupVersion = apiVersion.includes('/') ? apiVersion : 'v1';
  try {
    const file = require.resolve(`kubernetes-models/${groupVersion}/${kind}`).replace(/\.js$/, '.d.ts');
    return new RegExp(`export \\{ I${kind} as (I\\w+)`).exec(readFileSync(file, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** Paths (`spec.template.spec.containers[0].readinesProbe`) of keys `value`'s type does not declare. */
export function unknownFields(value: unknown, type: string, path = ''): string[] {
  const fields = typeIndex().get(type);
  if (!fields || typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  const out: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const childPath = path ? `${path}.${key}` : key;
    const declared = fields.get(key);
    if (declared === undefined) {
      out.push(childPath);
      continue;
    }
    const array = /^Array<(I\w+)>$/.exec(declared);
    if (array && Array.isArray(child)) child.forEach((item, i) => out.push(...unknownFields(item, array[1], `${childPath}[${i}]`)));
    else if (/^I\w+$/.test(declared)) out.push(...unknownFields(child, declared, childPath));
  }
  return out;
}
