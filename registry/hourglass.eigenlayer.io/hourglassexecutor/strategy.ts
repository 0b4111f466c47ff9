// HourglassExecutor rules beyond the schema.
import type { FieldError } from '../../../apiserver/errors.js';
import type { KubeObject } from '../../meta.js';
import type { KindRules } from '../../strategy.js';
import { asArray, asRecord, dnsLabel, dnsSubdomain, duplicate, invalid, key, labelMap, num, required, str } from '../../validation.js';

/** The label the controller puts on the executor's pods; the scale subresource selects by it. */
export const EXECUTOR_LABEL = 'hourglass.eigenlayer.io/executor';

const RPC_SCHEMES = new Set(['http:', 'https:', 'ws:', 'wss:']);

function rpcUrl(field: string, value: unknown): FieldError[] {
  if (typeof value !== 'string' || value === '') return [];
  try {
    const url = new URL(value);
    if (RPC_SCHEMES.has(url.protocol) && url.hostname) return [];
  } catch {
    // fall through
  }
  return [invalid(field, value, 'must be an http://, https://, ws:// or wss:// URL')];
}

function validate(obj: KubeObject): FieldError[] {
  const out: FieldError[] = [];
  const name = obj.metadata.name;
  if (name && name.length > 63) {
    out.push(invalid('metadata.name', name, `must be no more than 63 characters (it is the value of the ${EXECUTOR_LABEL} label of the pods)`));
  }
  const spec = asRecord(obj.spec);
  if (!spec) return out;
  const config = asRecord(spec.config);
  if (!config) return out;

  if (!str(config.aggregatorEndpoint)) out.push(required('spec.config.aggregatorEndpoint'));

  const keys = asRecord(config.operatorKeys) ?? {};
  if (Object.keys(keys).length === 0) {
    out.push(required('spec.config.operatorKeys', 'at least one operator key (a Secret reference) is required'));
  }
  for (const [k, ref] of Object.entries(keys)) {
    const secret = str(asRecord(asRecord(ref)?.secretKeyRef)?.name);
    if (secret) out.push(...dnsSubdomain(`${key('spec.config.operatorKeys', k)}.secretKeyRef.name`, secret));
  }

  const chains = asArray(config.chains);
  if (chains.length === 0) out.push(required('spec.config.chains', 'at least one chain is required'));
  const names = new Set<string>();
  const ids = new Set<number>();
  chains.forEach((c, i) => {
    const chain = asRecord(c);
    if (!chain) return;
    const path = `spec.config.chains[${i}]`;
    if (typeof chain.name === 'string') {
      if (names.has(chain.name)) out.push(duplicate(`${path}.name`, chain.name));
      names.add(chain.name);
    }
    const id = num(chain.chainId);
    if (id !== undefined) {
      if (ids.has(id)) out.push(duplicate(`${path}.chainId`, id));
      ids.add(id);
    }
    out.push(...rpcUrl(`${path}.rpc`, chain.rpc));
  });

  const k8s = asRecord(config.kubernetes);
  const ns = str(k8s?.namespace);
  if (ns) out.push(...dnsLabel('spec.config.kubernetes.namespace', ns));
  out.push(
    ...labelMap('spec.config.kubernetes.defaultScheduling.nodeSelector', asRecord(k8s?.defaultScheduling)?.nodeSelector),
    ...labelMap('spec.nodeSelector', spec.nodeSelector),
  );
  return out;
}

function warnings(obj: KubeObject): string[] {
  const config = asRecord(asRecord(obj.spec)?.config);
  if (config?.performerMode === 'docker' && config.kubernetes !== undefined) {
    return ['spec.config.kubernetes: ignored when spec.config.performerMode is docker'];
  }
  return [];
}

export const rules: KindRules = { validate, warnings };
