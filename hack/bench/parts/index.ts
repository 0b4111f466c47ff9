// Every benchmark part, in the order `npm run bench` runs them.
import type { BenchPart } from '../lib/part.js';
import { getPart } from './get.js';
import { listPart } from './list.js';
import { discoveryPart } from './discovery.js';
import { memoryPart } from './memory.js';
import { createPart } from './create.js';
import { verbPart } from './verb.js';
import { storagePart } from './storage.js';
import { watchPart } from './watch.js';

export const allParts: BenchPart[] = [getPart, createPart, listPart, discoveryPart, memoryPart, verbPart, storagePart, watchPart];
