// Small kind declarations for the discovery and OpenAPI tests: two groups, a kind served in two
// versions with a scale subresource, a cluster-scoped kind, and the schema building blocks whose
// OpenAPI form matters (defaults, enums, int-or-string, quantities, opaque structures, nullable,
// integer formats, nested objects and arrays).
import { z } from 'zod';
import type { KindDeclaration } from '../../registry/kind.js';
import { conditions, intOrString, labelSelector, opaque, quantity, timestamp } from '../../registry/schema.js';

const gadgetSpec = z
  .strictObject({
    replicas: z.int32().min(0).default(1).meta({ description: 'Number of gadget pods.' }),
    mode: z.enum(['Fast', 'Safe']).default('Safe').meta({ description: 'How the gadget runs: Fast or Safe.' }),
    port: intOrString.optional().meta({ description: 'Port of the gadget, a number or a named port.' }),
    memory: quantity.optional(),
    owner: z.string().meta({ description: 'Who owns the gadget.' }),
    selector: labelSelector.optional(),
    affinity: opaque('Scheduling constraints (core/v1 Affinity).').optional(),
    note: z.string().nullable().optional().meta({ description: 'A free-form note; null clears it.' }),
    sizes: z.array(z.int().min(1)).optional().meta({ description: 'Sizes, in bytes.' }),
    window: z
      .strictObject({
        start: timestamp.meta({ description: 'Start of the maintenance window.' }),
        hours: z.number().positive().default(2).meta({ description: 'Length of the window in hours.' }),
      })
      .optional()
      .meta({ description: 'The maintenance window.' }),
  })
  .meta({ description: 'The desired state of a gadget.' });

const gadgetStatus = z
  .strictObject({
    replicas: z.int32().optional().meta({ description: 'Observed gadget pods.' }),
    phase: z.enum(['Pending', 'Running']).optional().meta({ description: 'Lifecycle phase.' }),
    conditions: conditions.meta({ description: 'Observations of the gadget.' }),
  })
  .meta({ description: 'The observed state of a gadget.' });

export const gadget: KindDeclaration = {
  group: 'demo.example.com',
  versions: ['v1beta1', 'v1alpha1'],
  kind: 'Gadget',
  listKind: 'GadgetList',
  plural: 'gadgets',
  singular: 'gadget',
  shortNames: ['gd', 'gdt'],
  categories: ['all', 'demo'],
  namespaced: true,
  description: 'Gadget is a demonstration workload with a scale subresource.',
  spec: gadgetSpec,
  status: gadgetStatus,
  columns: [],
  selectableFields: {},
  scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', labelSelector: (obj) => `gadget=${obj.metadata.name ?? ''}` },
};

export const gizmo: KindDeclaration = {
  group: 'demo.example.com',
  versions: ['v1beta1'],
  kind: 'Gizmo',
  listKind: 'GizmoList',
  plural: 'gizmos',
  singular: 'gizmo',
  shortNames: [],
  categories: [],
  namespaced: false,
  description: 'Gizmo is a cluster-scoped demonstration kind.',
  spec: z.strictObject({ size: z.int().default(3).meta({ description: 'Size of the gizmo.' }) }),
  status: z.strictObject({ ready: z.boolean().optional().meta({ description: 'Whether the gizmo is ready.' }) }),
  columns: [],
  selectableFields: {},
};

export const thing: KindDeclaration = {
  group: 'things.example.org',
  versions: ['v1'],
  kind: 'Thing',
  listKind: 'ThingList',
  plural: 'things',
  singular: 'thing',
  shortNames: ['th'],
  categories: ['demo'],
  namespaced: true,
  description: 'Thing is a kind of a second API group.',
  spec: z.strictObject({ colour: z.string().optional().meta({ description: 'Colour of the thing.' }) }).meta({ description: 'What the thing should be.' }),
  status: z.strictObject({}),
  columns: [],
  selectableFields: {},
};

export const testKinds: KindDeclaration[] = [gadget, gizmo, thing];
