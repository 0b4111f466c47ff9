// StormCluster storm.apache.org/v1alpha1: the version storm-controller first scaffolded
// (seed 001, `src/config/crd/stormcluster-crd.yaml`). Its fields are v1beta1's, so it converts
// one to one: same schemas, only `apiVersion` changes.
import type { VersionSchema } from '../../kind.js';
import type { KubeObject } from '../../meta.js';
import { spec, status } from './types.js';

const sameFields = (obj: KubeObject): KubeObject => ({ ...obj });

export const v1alpha1: VersionSchema = { spec, status, toStorage: sameFields, fromStorage: sameFields };
