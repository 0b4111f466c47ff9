// Shapes of the host objects the Hourglass controllers write (pure builders).
import test from 'ava';
import { executorConfigMap, executorStatefulSet, CONFIG_HASH_ANNOTATION } from '../../controllers/hourglass/executor-resources.js';
import { DEFAULT_GPU_TYPE_LABEL, performerPod, performerService, TEE_LABEL, TEE_TYPE_LABEL } from '../../controllers/hourglass/performer-resources.js';
import { decodeObject } from '../../registry/codec.js';
import { declaration as executorDecl } from '../../registry/hourglass.eigenlayer.io/hourglassexecutor/index.js';
import { declaration as performerDecl } from '../../registry/hourglass.eigenlayer.io/performer/index.js';
import type { KubeObject } from '../../registry/meta.js';
import { sample } from '../controllers/helpers.js';

const performer = (edit: (o: any) => void = () => {}): KubeObject =>
  decodeObject(performerDecl, 'v1alpha1', sample('Performer', 'p1', 'ns1', edit), 'Strict').object;
const executor = (edit: (o: any) => void = () => {}): KubeObject =>
  decodeObject(executorDecl, 'v1alpha1', sample('HourglassExecutor', 'ex1', 'ns1', edit), 'Strict').object;

test('performer Pod: labels, gRPC port and native gRPC probes, env, scheduling', (t) => {
  const { pod, revision } = performerPod(performer());
  t.is(pod.metadata?.name, `performer-p1-${revision}`);
  t.like(pod.metadata?.labels, {
    app: 'hourglass-performer',
    'hourglass.eigenlayer.io/performer': 'p1',
    'hourglass.eigenlayer.io/avs': '0x5c2b3e9a7f1d4c6b8e0a2f4d6c8b0e2a4f6d8c0b',
    'hourglass.eigenlayer.io/revision': revision,
  });
  const c = pod.spec!.containers[0];
  t.deepEqual(c.ports, [{ name: 'grpc', containerPort: 9090, protocol: 'TCP' }]);
  t.deepEqual(c.livenessProbe?.grpc, { port: 9090 });
  t.deepEqual(c.readinessProbe?.grpc, { port: 9090 });
  t.is(c.livenessProbe?.httpGet, undefined);
  t.deepEqual(c.args, ['--port', '9090']);
  t.deepEqual(c.env?.find((e) => e.name === 'RPC_API_KEY')?.valueFrom, { secretKeyRef: { name: 'hello-avs-rpc', key: 'api-key' } });
  t.deepEqual(pod.spec?.tolerations, [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
  t.is(pod.spec?.priorityClassName, 'avs-critical');
  t.is(pod.spec?.restartPolicy, 'Always');
});

test('GPUs: nvidia.com/gpu requests = limits = gpuCount; gpuType is a node selector, never a resource name', (t) => {
  const { pod } = performerPod(performer());
  const r = pod.spec!.containers[0].resources!;
  t.is(r.requests?.['nvidia.com/gpu'], '1');
  t.is(r.limits?.['nvidia.com/gpu'], '1');
  t.is(r.requests?.cpu, '2');
  t.is(r.limits?.memory, '8Gi');
  const resourceNames = [...Object.keys(r.requests ?? {}), ...Object.keys(r.limits ?? {})];
  t.false(resourceNames.some((n) => n.includes('a100')), 'no nvidia.com/<gpuType> resource');
  t.deepEqual(pod.spec?.nodeSelector, { accelerator: 'nvidia-tesla-a100', [DEFAULT_GPU_TYPE_LABEL]: 'nvidia-a100' });
  const custom = performerPod(performer(), { gpuTypeLabel: 'nvidia.com/gpu.product' }).pod;
  t.is(custom.spec?.nodeSelector?.['nvidia.com/gpu.product'], 'nvidia-a100');
});

const tee: Array<{ title: string; hw: object; scheduling?: object; runtimeClass?: string; selector: Record<string, string> }> = [
  { title: 'TDX: confidential-containers RuntimeClass and TEE node selector', hw: { teeRequired: true, teeType: 'tdx' }, runtimeClass: 'kata-qemu-tdx', selector: { [TEE_LABEL]: 'true', [TEE_TYPE_LABEL]: 'tdx' } },
  { title: 'SGX: enclave-cc', hw: { teeRequired: true, teeType: 'sgx' }, runtimeClass: 'enclave-cc', selector: { [TEE_LABEL]: 'true', [TEE_TYPE_LABEL]: 'sgx' } },
  { title: 'an explicit runtimeClass wins', hw: { teeRequired: true, teeType: 'snp' }, scheduling: { runtimeClass: 'my-cc' }, runtimeClass: 'my-cc', selector: { [TEE_LABEL]: 'true', [TEE_TYPE_LABEL]: 'snp' } },
  { title: 'teeType without teeRequired is ignored', hw: { teeType: 'tdx' }, selector: {} },
  { title: 'customLabels select nodes too', hw: { customLabels: { 'example.com/fpga': 'yes' } }, selector: { 'example.com/fpga': 'yes' } },
];

for (const c of tee) {
  test(`hardware: ${c.title}`, (t) => {
    const { pod } = performerPod(
      performer((o) => {
        o.spec.hardwareRequirements = c.hw;
        o.spec.scheduling = c.scheduling;
      }),
    );
    t.is(pod.spec?.runtimeClassName, c.runtimeClass);
    t.deepEqual(pod.spec?.nodeSelector ?? {}, c.selector);
    t.is(pod.spec!.containers[0].resources?.limits?.['nvidia.com/gpu'], undefined);
  });
}

test('revision: a new version or image is a new Pod name; the same spec the same', (t) => {
  const a = performerPod(performer()).revision;
  t.is(performerPod(performer()).revision, a);
  t.not(performerPod(performer((o) => (o.spec.version = 'v1.3.0'))).revision, a);
  t.not(performerPod(performer((o) => (o.spec.image = 'ghcr.io/example/hello-avs-performer:v1.3.0'))).revision, a);
});

test('performer Service: ClusterIP on the gRPC port selecting one revision', (t) => {
  const svc = performerService(performer((o) => (o.spec.config.grpcPort = 7000)), 'abc');
  t.is(svc.metadata?.name, 'performer-p1');
  t.is(svc.spec?.type, 'ClusterIP');
  t.deepEqual(svc.spec?.ports, [{ name: 'grpc', port: 7000, targetPort: 7000, protocol: 'TCP' }]);
  t.deepEqual(svc.spec?.selector, { app: 'hourglass-performer', 'hourglass.eigenlayer.io/performer': 'p1', 'hourglass.eigenlayer.io/revision': 'abc' });
});

test('executor: ConfigMap holds the configuration with operator keys as env names; StatefulSet takes them from Secrets', (t) => {
  const obj = executor();
  const cm = executorConfigMap(obj);
  const file = cm.data!['executor.yaml'];
  t.regex(file, /aggregatorEndpoint: aggregator\.hourglass-system\.svc\.cluster\.local:9010/);
  t.regex(file, /chainId: 8453/);
  t.regex(file, /performerMode: kubernetes/);
  t.regex(file, /namespace: hourglass-performers/);
  t.regex(file, /fromEnv: HOURGLASS_OPERATOR_KEY_BLS/);
  t.notRegex(file, /operator-keys|bls\.key/, 'not even the Secret reference is in the ConfigMap');
  const sts = executorStatefulSet(obj, cm);
  t.is(sts.spec?.replicas, 1);
  t.deepEqual(sts.spec?.selector?.matchLabels, { app: 'hourglass-executor', 'hourglass.eigenlayer.io/executor': 'ex1' });
  const env = sts.spec!.template.spec!.containers[0].env!;
  t.deepEqual(env, [
    { name: 'HOURGLASS_OPERATOR_KEY_BLS', valueFrom: { secretKeyRef: { name: 'operator-keys', key: 'bls.key' } } },
    { name: 'HOURGLASS_OPERATOR_KEY_ECDSA', valueFrom: { secretKeyRef: { name: 'operator-keys', key: 'ecdsa.key' } } },
  ]);
  t.true(env.every((e) => e.value === undefined));
  t.deepEqual(sts.spec!.template.spec!.volumes, [{ name: 'config', configMap: { name: 'ex1-config' } }]);
  const hash = sts.spec!.template.metadata!.annotations![CONFIG_HASH_ANNOTATION];
  const changed = executor((o) => (o.spec.config.logLevel = 'debug'));
  t.not(executorStatefulSet(changed, executorConfigMap(changed)).spec!.template.metadata!.annotations![CONFIG_HASH_ANNOTATION], hash);
  const scaled = executor((o) => (o.spec.replicas = 3));
  t.is(executorStatefulSet(scaled, executorConfigMap(scaled)).spec!.template.metadata!.annotations![CONFIG_HASH_ANNOTATION], hash, 'replicas do not roll the pods');
});
