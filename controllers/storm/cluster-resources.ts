// The host objects of a StormCluster in `managementMode: create`, built from its spec:
//   ConfigMap   <name>-config            storm.yaml (zookeeper servers/root/timeouts, nimbus.seeds, ports, spec.config)
//   StatefulSet <name>-nimbus            `storm nimbus`, thrift port 6627, data on a claim (persistence) or emptyDir
//   Service     <name>-nimbus            ClusterIP, thrift (spec.nimbus.thrift.port → 6627)
//   Service     <name>-nimbus-headless   the StatefulSet's governing Service (stable pod names for nimbus.seeds)
//   Deployment  <name>-supervisor        `storm supervisor` (or a DaemonSet with deploymentMode daemonset), slot ports 6700…
//   Deployment  <name>-ui, Service <name>-ui   `storm ui` on 8080 (when spec.ui.enabled)
// Every object carries managedByLabels(cluster) (no ownerReferences across APIs) and the
// app.kubernetes.io labels; pod templates carry a hash of storm.yaml so a config change rolls them.
import { createHash } from 'node:crypto';
import type { V1ConfigMap, V1DaemonSet, V1Deployment, V1PodSpec, V1PodTemplateSpec, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import { stringify, parse } from 'yaml';
import type { KubeObject } from '../../registry/meta.js';
import type { StormClusterSpec } from '../../registry/storm.apache.org/stormcluster/types.js';
import { nimbusServiceName } from '../../registry/storm.apache.org/upstreams.js';
import { managedByLabels } from '../host-client.js';

/** Nimbus's Thrift port inside the pod (Storm's nimbus.thrift.port). */
export const NIMBUS_THRIFT_PORT = 6627;
export const UI_PORT = 8080;
export const FIRST_SLOT_PORT = 6700;
export const CONF_DIR = '/conf';
export const DATA_DIR = '/data';

export type StormComponent = 'nimbus' | 'supervisor' | 'ui';

export const names = {
  configMap: (cluster: string) => `${cluster}-config`,
  nimbus: (cluster: string) => nimbusServiceName(cluster),
  nimbusHeadless: (cluster: string) => `${cluster}-nimbus-headless`,
  supervisor: (cluster: string) => `${cluster}-supervisor`,
  ui: (cluster: string) => `${cluster}-ui`,
};

function specOf(cluster: KubeObject): StormClusterSpec {
  return cluster.spec as unknown as StormClusterSpec;
}

/** Labels selecting a component's pods. */
export function selectorLabels(cluster: KubeObject, component: StormComponent): Record<string, string> {
  return { 'app.kubernetes.io/name': 'storm', 'app.kubernetes.io/instance': cluster.metadata.name!, 'app.kubernetes.io/component': component };
}

function labels(cluster: KubeObject, component?: StormComponent): Record<string, string> {
  const base = component ? selectorLabels(cluster, component) : { 'app.kubernetes.io/name': 'storm', 'app.kubernetes.io/instance': cluster.metadata.name! };
  return { ...base, 'app.kubernetes.io/version': specOf(cluster).image.tag, ...managedByLabels(cluster) };
}

function meta(cluster: KubeObject, name: string, component?: StormComponent) {
  return { name, namespace: cluster.metadata.namespace!, labels: labels(cluster, component) };
}

export function image(spec: StormClusterSpec): string {
  return `${spec.image.registry}/${spec.image.repository}:${spec.image.tag}`;
}

/** host[:port] entries of spec.zookeeper.servers → hosts and the port they share (default 2181). */
function zookeeper(servers: string[]): { hosts: string[]; port: number } {
  let port = 2181;
  const hosts = servers.map((server) => {
    const m = /^(.*):(\d+)$/.exec(server);
    if (!m) return server;
    port = Number(m[2]);
    return m[1]!;
  });
  return { hosts, port };
}

/** A storm.yaml value from spec.config: YAML scalars keep their type ("2" → 2, "true" → true), anything unparsable stays a string. */
function configValue(value: string): unknown {
  try {
    const parsed = parse(value) as unknown;
    return parsed === null || parsed === undefined ? value : parsed;
  } catch {
    return value;
  }
}

/** storm.yaml of the cluster. spec.config is applied last and may override anything. */
export function stormYaml(cluster: KubeObject): string {
  const spec = specOf(cluster);
  const name = cluster.metadata.name!;
  const ns = cluster.metadata.namespace!;
  const zk = zookeeper(spec.zookeeper.servers ?? []);
  const seeds = Array.from({ length: spec.nimbus.replicas }, (_, i) => `${names.nimbus(name)}-${i}.${names.nimbusHeadless(name)}.${ns}.svc`);
  const conf: Record<string, unknown> = {
    'storm.zookeeper.servers': zk.hosts,
    'storm.zookeeper.port': zk.port,
    'storm.zookeeper.root': spec.zookeeper.root,
    'storm.zookeeper.connection.timeout': spec.zookeeper.connectionTimeout,
    'storm.zookeeper.session.timeout': spec.zookeeper.sessionTimeout,
    'nimbus.seeds': seeds,
    'nimbus.thrift.port': NIMBUS_THRIFT_PORT,
    'storm.local.dir': DATA_DIR,
    'supervisor.slots.ports': Array.from({ length: spec.supervisor.slotsPerSupervisor }, (_, i) => FIRST_SLOT_PORT + i),
    'ui.port': UI_PORT,
  };
  if (spec.clusterName) conf['storm.cluster.name'] = spec.clusterName;
  for (const [key, value] of Object.entries(spec.config ?? {})) conf[key] = configValue(value);
  return stringify(conf);
}

export function configMap(cluster: KubeObject): V1ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(cluster, names.configMap(cluster.metadata.name!)), data: { 'storm.yaml': stormYaml(cluster) } };
}

function configHash(cluster: KubeObject): string {
  return createHash('sha256').update(stormYaml(cluster)).digest('hex').slice(0, 16);
}

interface ComponentScheduling {
  resources?: unknown;
  extraEnvVars?: unknown[];
  nodeSelector?: Record<string, string>;
  tolerations?: unknown[];
  affinity?: unknown;
}

function podTemplate(cluster: KubeObject, component: StormComponent, ports: Array<{ name: string; containerPort: number }>, scheduling: ComponentScheduling, dataVolume: 'claim' | 'emptyDir' | 'none'): V1PodTemplateSpec {
  const spec = specOf(cluster);
  const pullSecrets = [...(spec.imagePullSecrets ?? []).map((s) => s.name), ...(spec.image.pullSecrets ?? [])];
  const volumeMounts = [{ name: 'config', mountPath: CONF_DIR }];
  if (dataVolume !== 'none') volumeMounts.push({ name: 'data', mountPath: DATA_DIR });
  const volumes: V1PodSpec['volumes'] = [{ name: 'config', configMap: { name: names.configMap(cluster.metadata.name!) } }];
  if (dataVolume === 'emptyDir') volumes.push({ name: 'data', emptyDir: {} });
  const podSpec: V1PodSpec = {
    containers: [
      {
        name: component,
        image: image(spec),
        ...(spec.image.pullPolicy ? { imagePullPolicy: spec.image.pullPolicy } : {}),
        command: ['storm', component],
        ports,
        env: [{ name: 'STORM_CONF_DIR', value: CONF_DIR }, ...((scheduling.extraEnvVars ?? []) as NonNullable<V1PodSpec['containers'][number]['env']>)],
        volumeMounts,
        ...(scheduling.resources ? { resources: scheduling.resources as V1PodSpec['containers'][number]['resources'] } : {}),
      },
    ],
    volumes,
    ...(pullSecrets.length > 0 ? { imagePullSecrets: [...new Set(pullSecrets)].map((name) => ({ name })) } : {}),
    ...(scheduling.nodeSelector ? { nodeSelector: scheduling.nodeSelector } : {}),
    ...(scheduling.tolerations ? { tolerations: scheduling.tolerations as V1PodSpec['tolerations'] } : {}),
    ...(scheduling.affinity ? { affinity: scheduling.affinity as V1PodSpec['affinity'] } : {}),
  };
  return {
    metadata: { labels: labels(cluster, component), annotations: { 'storm.apache.org/config-hash': configHash(cluster) } },
    spec: podSpec,
  };
}

export function nimbusStatefulSet(cluster: KubeObject): V1StatefulSet {
  const spec = specOf(cluster);
  const name = cluster.metadata.name!;
  const persistence = spec.nimbus.persistence ?? spec.persistence;
  const claim = persistence?.enabled === true;
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta(cluster, names.nimbus(name), 'nimbus'),
    spec: {
      replicas: spec.nimbus.replicas,
      serviceName: names.nimbusHeadless(name),
      selector: { matchLabels: selectorLabels(cluster, 'nimbus') },
      template: podTemplate(cluster, 'nimbus', [{ name: 'thrift', containerPort: NIMBUS_THRIFT_PORT }], spec.nimbus, claim ? 'claim' : 'emptyDir'),
      ...(claim
        ? {
            volumeClaimTemplates: [
              {
                metadata: { name: 'data' },
                spec: {
                  accessModes: [persistence!.accessMode],
                  resources: { requests: { storage: String(persistence!.size) } },
                  ...(persistence!.storageClass ? { storageClassName: persistence!.storageClass } : {}),
                },
              },
            ],
          }
        : {}),
    },
  };
}

function slotPorts(spec: StormClusterSpec): Array<{ name: string; containerPort: number }> {
  return Array.from({ length: spec.supervisor.slotsPerSupervisor }, (_, i) => ({ name: `slot-${i}`, containerPort: FIRST_SLOT_PORT + i }));
}

export function supervisorDeployment(cluster: KubeObject): V1Deployment {
  const spec = specOf(cluster);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(cluster, names.supervisor(cluster.metadata.name!), 'supervisor'),
    spec: {
      replicas: spec.supervisor.replicas,
      selector: { matchLabels: selectorLabels(cluster, 'supervisor') },
      template: podTemplate(cluster, 'supervisor', slotPorts(spec), spec.supervisor, 'emptyDir'),
    },
  };
}

export function supervisorDaemonSet(cluster: KubeObject): V1DaemonSet {
  const spec = specOf(cluster);
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: meta(cluster, names.supervisor(cluster.metadata.name!), 'supervisor'),
    spec: {
      selector: { matchLabels: selectorLabels(cluster, 'supervisor') },
      template: podTemplate(cluster, 'supervisor', slotPorts(spec), spec.supervisor, 'emptyDir'),
    },
  };
}

export function uiDeployment(cluster: KubeObject): V1Deployment {
  const spec = specOf(cluster);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(cluster, names.ui(cluster.metadata.name!), 'ui'),
    spec: {
      replicas: spec.ui.replicas,
      selector: { matchLabels: selectorLabels(cluster, 'ui') },
      template: podTemplate(cluster, 'ui', [{ name: 'http', containerPort: UI_PORT }], { resources: spec.ui.resources }, 'none'),
    },
  };
}

export function nimbusService(cluster: KubeObject): V1Service {
  const spec = specOf(cluster);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(cluster, names.nimbus(cluster.metadata.name!), 'nimbus'),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(cluster, 'nimbus'),
      ports: [{ name: 'thrift', port: spec.nimbus.thrift.port, targetPort: NIMBUS_THRIFT_PORT, protocol: 'TCP' }],
    },
  };
}

export function nimbusHeadlessService(cluster: KubeObject): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(cluster, names.nimbusHeadless(cluster.metadata.name!), 'nimbus'),
    spec: {
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: selectorLabels(cluster, 'nimbus'),
      ports: [{ name: 'thrift', port: NIMBUS_THRIFT_PORT, targetPort: NIMBUS_THRIFT_PORT, protocol: 'TCP' }],
    },
  };
}

export function uiService(cluster: KubeObject): V1Service {
  const service = specOf(cluster).ui.service;
  const metadata = meta(cluster, names.ui(cluster.metadata.name!), 'ui');
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: service.annotations ? { ...metadata, annotations: service.annotations } : metadata,
    spec: {
      type: service.type,
      selector: selectorLabels(cluster, 'ui'),
      ports: [{ name: 'http', port: service.port, targetPort: UI_PORT, protocol: 'TCP', ...(service.nodePort && service.type !== 'ClusterIP' ? { nodePort: service.nodePort } : {}) }],
      ...(service.loadBalancerIP && service.type === 'LoadBalancer' ? { loadBalancerIP: service.loadBalancerIP } : {}),
    },
  };
}

/** Where clients reach the cluster (status.endpoints), from the Services' cluster DNS names. */
export function endpoints(cluster: KubeObject, nimbusAddress: { host: string; port: number }): { nimbus: string; ui?: string; restApi?: string } {
  const spec = specOf(cluster);
  const ns = cluster.metadata.namespace!;
  const out: { nimbus: string; ui?: string; restApi?: string } = { nimbus: `${nimbusAddress.host}:${nimbusAddress.port}` };
  const uiServiceName = spec.managementMode === 'reference' ? spec.resourceNames?.uiService : spec.ui.enabled ? names.ui(cluster.metadata.name!) : undefined;
  if (uiServiceName) {
    out.ui = `http://${uiServiceName}.${ns}.svc:${spec.ui.service.port}`;
    out.restApi = `${out.ui}/api/v1`;
  }
  return out;
}
