// StormCluster rules beyond the schema.
import type { FieldError } from '../../../apiserver/errors.js';
import type { KubeObject } from '../../meta.js';
import type { KindRules } from '../../strategy.js';
import {
  asArray,
  asRecord,
  dns1035Label,
  duplicate,
  envVars,
  forbidden,
  immutable,
  invalid,
  labelMap,
  num,
  quantityValue,
  required,
  str,
} from '../../validation.js';

/** Longest suffix the controller appends to the cluster name (`<name>-supervisor`). */
const NAME_SUFFIX = '-supervisor';
const MAX_NAME = 63 - NAME_SUFFIX.length;

const HOST = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?)(:(\d+))?$/;

function hostPort(field: string, value: unknown): FieldError[] {
  if (typeof value !== 'string') return [];
  const m = HOST.exec(value);
  if (!m) return [invalid(field, value, 'must be a host name or IP address, optionally followed by :port')];
  if (m[4] !== undefined) {
    const p = Number(m[4]);
    if (p < 1 || p > 65535) return [invalid(field, value, 'port must be between 1 and 65535, inclusive')];
  }
  return [];
}

function podPlacement(field: string, raw: unknown): FieldError[] {
  const p = asRecord(raw);
  if (!p) return [];
  return [...envVars(`${field}.extraEnvVars`, p.extraEnvVars), ...labelMap(`${field}.nodeSelector`, p.nodeSelector)];
}

function validate(obj: KubeObject): FieldError[] {
  const spec = asRecord(obj.spec);
  if (!spec) return [];
  const out: FieldError[] = [];
  const mode = spec.managementMode ?? 'create';

  if (mode === 'create') {
    // The controller names Services after the cluster: `<name>-nimbus`, `<name>-ui`, `<name>-supervisor`.
    if (obj.metadata.name) {
      for (const e of dns1035Label('metadata.name', obj.metadata.name, MAX_NAME)) {
        out.push({ ...e, detail: `${e.detail} (the name prefixes the cluster's Services, e.g. <name>${NAME_SUFFIX})` });
      }
    }
    const zk = asRecord(spec.zookeeper);
    const servers = asArray(zk?.servers);
    if (servers.length === 0) out.push(required('spec.zookeeper.servers', 'at least one ZooKeeper server is required when managementMode is create'));
    servers.forEach((s, i) => out.push(...hostPort(`spec.zookeeper.servers[${i}]`, s)));
  } else {
    const names = asRecord(spec.resourceNames);
    if (!names) {
      out.push(required('spec.resourceNames', 'must name the existing resources when managementMode is reference'));
    } else if (!str(names.nimbusService)) {
      out.push(required('spec.resourceNames.nimbusService', 'the Nimbus Service is how the server reaches a referenced cluster'));
    }
    for (const svc of ['nimbusService', 'uiService'] as const) {
      const v = str(names?.[svc]);
      if (v) out.push(...dns1035Label(`spec.resourceNames.${svc}`, v));
    }
  }

  const zkRoot = asRecord(spec.zookeeper)?.root;
  if (typeof zkRoot === 'string' && !zkRoot.startsWith('/')) out.push(invalid('spec.zookeeper.root', zkRoot, "must be an absolute path starting with '/'"));

  const nimbus = asRecord(spec.nimbus);
  const thrift = asRecord(nimbus?.thrift);
  if (thrift) {
    const minIdle = num(thrift.minIdleConnections);
    const max = num(thrift.maxConnections);
    if (minIdle !== undefined && max !== undefined && minIdle > max) {
      out.push(invalid('spec.nimbus.thrift.minIdleConnections', minIdle, 'must be less than or equal to `maxConnections`'));
    }
    if (thrift.useTLS === true && !str(asRecord(thrift.tls)?.certSecret)) {
      out.push(required('spec.nimbus.thrift.tls.certSecret', 'must be specified when `useTLS` is true'));
    }
  }
  out.push(...podPlacement('spec.nimbus', nimbus), ...podPlacement('spec.supervisor', spec.supervisor));

  for (const [field, p] of [
    ['spec.persistence', spec.persistence],
    ['spec.nimbus.persistence', nimbus?.persistence],
  ] as const) {
    const size = asRecord(p)?.size;
    const bytes = quantityValue(size);
    if (size !== undefined && bytes !== undefined && bytes <= 0) out.push(invalid(`${field}.size`, size, 'must be greater than 0'));
  }

  const ui = asRecord(spec.ui);
  const service = asRecord(ui?.service);
  if (service?.nodePort !== undefined && service.type === 'ClusterIP') {
    out.push(forbidden('spec.ui.service.nodePort', "may not be used when `type` is 'ClusterIP'"));
  }
  const auth = asRecord(ui?.auth);
  if (auth?.enabled === true && auth.type === 'simple' && asArray(auth.users).length === 0 && !str(auth.existingSecret)) {
    out.push(required('spec.ui.auth.users', 'simple authentication needs users or an existingSecret'));
  }
  const seen = new Set<string>();
  asArray(auth?.users).forEach((u, i) => {
    const name = asRecord(u)?.username;
    if (typeof name !== 'string') return;
    if (seen.has(name)) out.push(duplicate(`spec.ui.auth.users[${i}].username`, name));
    seen.add(name);
  });
  return out;
}

function validateUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  // Switching modes would orphan the resources the server created, or adopt someone else's.
  return immutable('spec.managementMode', obj.spec?.managementMode, old.spec?.managementMode);
}

function warnings(obj: KubeObject): string[] {
  const spec = asRecord(obj.spec);
  if (!spec) return [];
  const out: string[] = [];
  if (spec.managementMode === 'create' && spec.resourceNames !== undefined) {
    out.push('spec.resourceNames: ignored when spec.managementMode is create');
  }
  const thrift = asRecord(asRecord(spec.nimbus)?.thrift);
  const tls = asRecord(thrift?.tls);
  if (tls && thrift?.useTLS !== true) out.push('spec.nimbus.thrift.tls: ignored while spec.nimbus.thrift.useTLS is false');
  if (tls?.insecureSkipVerify === true && thrift?.useTLS === true) {
    out.push('spec.nimbus.thrift.tls.insecureSkipVerify: the Nimbus certificate is not verified; connections can be intercepted');
  }
  return out;
}

export const rules: KindRules = { validate, validateUpdate, warnings };
