// StormTopology rules beyond the schema.
import type { FieldError } from '../../../apiserver/errors.js';
import type { KubeObject } from '../../meta.js';
import type { KindRules } from '../../strategy.js';
import {
  annotationMap,
  asArray,
  asRecord,
  dnsLabel,
  dnsSubdomain,
  envVars,
  forbidden,
  immutable,
  invalid,
  key,
  labelMap,
  notSupported,
  num,
  objectRef,
  required,
  str,
} from '../../validation.js';
import { autoscalingRules, autoscalingWarnings, hookRules } from '../common.js';
import { TOPOLOGY_METRICS } from './types.js';

export const JAR_SOURCES = ['url', 'configMap', 'secret', 's3', 'container'] as const;

/** Storm's own rule for topology names (Nimbus `validateTopologyName`). */
const STORM_NAME = /^[^/.:\\]+$/;

const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128, md5: 32 };

/** The key of `spec.topology.config` whose value is the deployed version. */
export const VERSION_KEY = 'topology.version';

function topologyName(name: unknown): FieldError[] {
  const field = 'spec.topology.name';
  if (typeof name !== 'string' || name === '') return [required(field)];
  const out = dnsLabel(field, name);
  if (!STORM_NAME.test(name)) out.push(invalid(field, name, "must not contain '/', '.', ':' or '\\' (Storm topology names match ^[^/.:\\\\]+$)"));
  return out;
}

function jarUrl(field: string, value: string): FieldError[] {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return [invalid(field, value, 'must be an absolute http://, https:// or s3:// URL')];
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    return url.hostname ? [] : [invalid(field, value, 'must name a host')];
  }
  if (url.protocol === 's3:') {
    if (!url.hostname || url.pathname.length <= 1) return [invalid(field, value, 'an s3:// URL must be s3://<bucket>/<key>')];
    return [];
  }
  return [invalid(field, value, `unsupported scheme "${url.protocol.slice(0, -1)}": must be http, https or s3`)];
}

function checksum(field: string, raw: unknown, containerSource: boolean): FieldError[] {
  const c = asRecord(raw);
  if (!c) return [];
  const out: FieldError[] = [];
  const value = c.value;
  const hasValue = typeof value === 'string' && value !== '';
  const hasFile = typeof c.file === 'string' && c.file !== '';
  if (!hasValue && !hasFile) out.push(required(`${field}.value`, 'must specify value or file'));
  if (hasValue && hasFile) out.push(forbidden(`${field}.file`, 'may not be specified together with value'));
  if (hasFile && !containerSource) out.push(forbidden(`${field}.file`, 'may only be used with a container jar source'));
  if (hasValue) {
    const algorithm = typeof c.algorithm === 'string' ? c.algorithm : 'sha256';
    const length = DIGEST_HEX_LENGTH[algorithm];
    if (length !== undefined && (value.length !== length || !/^[0-9a-fA-F]+$/.test(value))) {
      out.push(invalid(`${field}.value`, value, `must be ${length} hexadecimal digits (a ${algorithm} digest, without an algorithm prefix)`));
    }
  }
  return out;
}

function jar(raw: unknown): FieldError[] {
  const field = 'spec.topology.jar';
  const j = asRecord(raw);
  if (!j) return [];
  const out: FieldError[] = [];
  const set = JAR_SOURCES.filter((s) => j[s] !== undefined && j[s] !== '');
  if (set.length === 0) out.push(required(field, `must specify one of: ${JAR_SOURCES.join(', ')}`));
  for (const extra of set.slice(1)) out.push(forbidden(`${field}.${extra}`, 'may not specify more than 1 jar source'));

  if (typeof j.url === 'string' && j.url !== '') out.push(...jarUrl(`${field}.url`, j.url));
  for (const ref of ['configMap', 'secret'] as const) {
    const v = str(j[ref]);
    if (v) out.push(...dnsSubdomain(`${field}.${ref}`, v));
  }
  const s3 = asRecord(j.s3);
  const endpoint = str(s3?.endpoint);
  if (endpoint && !/^https?:\/\/[^/]+/.test(endpoint)) out.push(invalid(`${field}.s3.endpoint`, endpoint, 'must be an http:// or https:// URL'));

  const container = asRecord(j.container);
  if (container) {
    out.push(...envVars(`${field}.container.env`, container.env));
    const path = container.path;
    if (typeof path === 'string' && !path.startsWith('/')) out.push(invalid(`${field}.container.path`, path, 'must be an absolute path'));
  }
  out.push(...checksum(`${field}.checksum`, j.checksum, container !== undefined));
  out.push(...checksum(`${field}.container.checksum`, container?.checksum, true));
  if (j.checksum !== undefined && container?.checksum !== undefined) {
    out.push(forbidden(`${field}.container.checksum`, `may not be specified together with ${field}.checksum`));
  }
  return out;
}

function deploymentStrategy(raw: unknown): FieldError[] {
  const field = 'spec.deploymentStrategy';
  const d = asRecord(raw);
  if (!d) return [];
  const out: FieldError[] = [];
  if (d.type === 'recreate' && d.blueGreen !== undefined) {
    out.push(forbidden(`${field}.blueGreen`, "may not be specified when `type` is 'recreate'"));
  }
  asArray(asRecord(d.blueGreen)?.prePromotionAnalysis).forEach((a, i) => {
    const analysis = asRecord(a);
    if (!analysis || str(analysis.query)) return;
    const metric = analysis.metricName;
    if (typeof metric === 'string' && !(TOPOLOGY_METRICS as readonly string[]).includes(metric)) {
      out.push(notSupported(`${field}.blueGreen.prePromotionAnalysis[${i}].metricName`, metric, TOPOLOGY_METRICS));
    }
  });
  return out;
}

function validate(obj: KubeObject): FieldError[] {
  const spec = asRecord(obj.spec);
  if (!spec) return [];
  const topology = asRecord(spec.topology);
  const workers = asRecord(spec.workers);
  const lifecycle = asRecord(spec.lifecycle);
  return [
    ...objectRef('spec.clusterRef', spec.clusterRef),
    ...topologyName(topology?.name),
    ...jar(topology?.jar),
    ...labelMap('spec.workers.podLabels', workers?.podLabels),
    ...annotationMap('spec.workers.podAnnotations', workers?.podAnnotations),
    ...labelMap('spec.workers.nodeSelector', workers?.nodeSelector),
    ...autoscalingRules('spec.workers.autoscaling', workers?.autoscaling),
    ...hookRules('spec.lifecycle.preStop', lifecycle?.preStop),
    ...hookRules('spec.lifecycle.postStart', lifecycle?.postStart),
    ...deploymentStrategy(spec.deploymentStrategy),
  ];
}

function validateUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  return [
    ...immutable('spec.clusterRef', obj.spec?.clusterRef, old.spec?.clusterRef),
    ...immutable('spec.topology.name', asRecord(obj.spec?.topology)?.name, asRecord(old.spec?.topology)?.name),
  ];
}

function warnings(obj: KubeObject): string[] {
  const spec = asRecord(obj.spec);
  if (!spec) return [];
  const out: string[] = [];
  const topology = asRecord(spec.topology);
  const jarSpec = asRecord(topology?.jar);
  const container = asRecord(jarSpec?.container);
  if (container?.checksum !== undefined) out.push('spec.topology.jar.container.checksum: deprecated, use spec.topology.jar.checksum');
  for (const c of [asRecord(jarSpec?.checksum), asRecord(container?.checksum)]) {
    if (c?.algorithm === 'md5') {
      out.push('spec.topology.jar.checksum.algorithm: md5 is not collision-resistant and does not protect against a tampered jar; use sha256');
      break;
    }
  }
  const url = str(jarSpec?.url);
  if (url?.startsWith('http://') && jarSpec?.checksum === undefined) {
    out.push('spec.topology.jar.url: the jar is downloaded over plain http without a checksum; set spec.topology.jar.checksum');
  }

  const workers = asRecord(spec.workers);
  const autoscaling = asRecord(workers?.autoscaling);
  out.push(...autoscalingWarnings('spec.workers.autoscaling', autoscaling));
  const replicas = num(workers?.replicas);
  const min = num(autoscaling?.minReplicas);
  const max = num(autoscaling?.maxReplicas);
  if (autoscaling?.enabled === true && replicas !== undefined && min !== undefined && max !== undefined && (replicas < min || replicas > max)) {
    out.push(`spec.workers.replicas: ${replicas} is outside the autoscaling range ${min}..${max}; the autoscaler will override it`);
  }

  const strategy = asRecord(spec.deploymentStrategy);
  const blueGreen = asRecord(strategy?.blueGreen);
  if (strategy?.type !== 'blueGreen' && asRecord(spec.lifecycle)?.updateStrategy === 'rolling') {
    // Storm cannot replace a running topology in place: there is no rolling update to serve.
    // Kept under the 256-character limit of a warning header.
    out.push('spec.lifecycle.updateStrategy: rolling is served as recreate (Storm cannot update a running topology in place); use spec.deploymentStrategy.type: blueGreen to keep a version running during an update');
  }
  if (strategy?.type === 'blueGreen') {
    if (asRecord(spec.lifecycle)?.updateStrategy === 'rolling') {
      out.push('spec.lifecycle.updateStrategy: ignored when spec.deploymentStrategy.type is blueGreen');
    }
    if (!str(asRecord(topology?.config)?.[VERSION_KEY])) {
      out.push(`${key('spec.topology.config', VERSION_KEY)}: not set; blue-green revisions will all be recorded as "unversioned"`);
    }
  }
  if (blueGreen && blueGreen.autoPromotionEnabled !== true && blueGreen.autoPromotionSeconds !== undefined) {
    out.push('spec.deploymentStrategy.blueGreen.autoPromotionSeconds: ignored while autoPromotionEnabled is false');
  }
  return out;
}

export const rules: KindRules = { validate, validateUpdate, warnings };
