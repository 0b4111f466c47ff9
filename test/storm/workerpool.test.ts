// The StormWorkerPool controller against the stand-in host cluster: the worker Deployment, the
// headless Service and the autoscaling/v2 HPA it keeps, the status it reports, the gauges on
// /metrics, and clean-up on delete.
import { AppsV1Api, AutoscalingV2Api } from '@kubernetes/client-node';
import test from 'ava';
import { WORKER_POOL_FINALIZER } from '../../controllers/storm/workerpool.js';
import type { KubeObject } from '../../registry/meta.js';
import { POOL_LABEL } from '../../registry/storm.apache.org/stormworkerpool/strategy.js';
import { httpsRequest } from '../helpers/server.js';
import { condition, createObject, editObject, eventually, getObject, phaseIs, runningCluster, startStormHarness, topologyObject, type StormHarness } from './topology-harness.js';

let h: StormHarness;
let apps: AppsV1Api;
let autoscaling: AutoscalingV2Api;

test.before(async () => {
  h = await startStormHarness(['pools', 'lonely']);
  await runningCluster(h, 'pools');
  await createObject(h.topologies, topologyObject('pools', 'wordcount'));
  apps = h.host.kubeConfig().makeApiClient(AppsV1Api);
  autoscaling = h.host.kubeConfig().makeApiClient(AutoscalingV2Api);
});
test.after.always(async () => {
  await h?.stop();
});

const gone = (read: () => Promise<unknown>) =>
  read().then(
    () => false,
    (err: { code?: number }) => err.code === 404,
  );

function pool(name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'storm.apache.org/v1beta1', kind: 'StormWorkerPool', metadata: { name, namespace: 'pools' }, spec: { topologyRef: 'wordcount', ...spec } };
}

async function metricsText(): Promise<string> {
  return (await httpsRequest(h.server, 'GET', '/metrics')).body;
}

test.serial('Deployment, headless Service and HPA shapes, status and gauges; autoscaling off removes the HPA; delete removes everything (stand-in host cluster)', async (t) => {
  await createObject(
    h.pools,
    pool('heavy', {
      replicas: 3,
      ports: { start: 6800, count: 3 },
      jvmOpts: ['-Xmx2g', '-XX:+UseG1GC'],
      workerConfig: { 'topology.worker.max.heap.size.mb': '2048' },
      template: {
        metadata: { labels: { team: 'search' }, annotations: { 'prometheus.io/scrape': 'true' } },
        spec: {
          containers: [{ name: 'worker', resources: { requests: { cpu: '1', memory: '2Gi' } }, env: [{ name: 'EXTRA', value: 'yes' }] }],
          nodeSelector: { pool: 'storm' },
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'storm', effect: 'NoSchedule' }],
          serviceAccountName: 'storm-worker',
        },
      },
      autoscaling: {
        enabled: true,
        minReplicas: 2,
        maxReplicas: 6,
        targetCPUUtilizationPercentage: 70,
        targetMemoryUtilizationPercentage: 75,
        customMetrics: [{ name: 'storm_pending_messages', type: 'pods', targetAverageValue: '1000' }],
        behavior: { scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } },
      },
    }),
  );

  const deployment = await eventually(() => apps.readNamespacedDeployment({ namespace: 'pools', name: 'heavy-workers' }), 'the Deployment');
  t.deepEqual(deployment.spec!.selector.matchLabels, { [POOL_LABEL]: 'heavy' });
  t.is(deployment.spec!.replicas, 3);
  const podMeta = deployment.spec!.template.metadata!;
  t.like(podMeta.labels, { team: 'search', [POOL_LABEL]: 'heavy', 'storm.apache.org/topology': 'wordcount' });
  t.is(podMeta.annotations?.['prometheus.io/scrape'], 'true');
  const podSpec = deployment.spec!.template.spec!;
  t.deepEqual(podSpec.nodeSelector, { pool: 'storm' });
  t.is(podSpec.serviceAccountName, 'storm-worker');
  t.is(podSpec.tolerations?.[0].key, 'dedicated');
  const worker = podSpec.containers[0];
  t.is(worker.name, 'worker');
  t.is(worker.image, 'docker.io/apache/storm:2.6.0', "the cluster's image");
  t.deepEqual(worker.ports!.map((p) => p.containerPort), [6800, 6801, 6802]);
  t.deepEqual(worker.resources?.requests, { cpu: '1', memory: '2Gi' });
  t.true(worker.env!.some((e) => e.name === 'EXTRA' && e.value === 'yes'));
  t.deepEqual(worker.command!.slice(0, 2), ['storm', 'supervisor']);
  const config = worker.command!.filter((_, i, all) => all[i - 1] === '-c');
  t.true(config.includes('supervisor.slots.ports=[6800,6801,6802]'));
  t.true(config.includes('nimbus.seeds=["storm-nimbus.pools.svc"]'));
  t.true(config.includes('storm.zookeeper.servers=["zk-0.zk:2181"]'));
  t.true(config.includes('worker.childopts="-Xmx2g -XX:+UseG1GC"'));
  t.true(config.includes('topology.worker.max.heap.size.mb=2048'));

  const service = await eventually(() => h.core.readNamespacedService({ namespace: 'pools', name: 'heavy-workers' }), 'the Service');
  t.is(service.spec!.clusterIP, 'None');
  t.deepEqual(service.spec!.selector, { [POOL_LABEL]: 'heavy' });
  t.deepEqual(service.spec!.ports!.map((p) => p.port), [6800, 6801, 6802]);

  const hpa = await eventually(() => autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace: 'pools', name: 'heavy-hpa' }), 'the HPA');
  t.like(hpa.spec, { minReplicas: 2, maxReplicas: 6, scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'heavy-workers' } });
  t.deepEqual(JSON.parse(JSON.stringify(hpa.spec!.metrics)), [
    { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
    { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 75 } } },
    { type: 'Pods', pods: { metric: { name: 'storm_pending_messages' }, target: { type: 'AverageValue', averageValue: '1000' } } },
  ]);
  t.like(JSON.parse(JSON.stringify(hpa.spec!.behavior)), { scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } });

  const running = await phaseIs(h.pools, 'pools', 'heavy', 'Running', (o) => o.status.readyReplicas === 3);
  t.like(running.status, { replicas: 3, readyReplicas: 3, availableReplicas: 3, updatedReplicas: 3, deploymentName: 'heavy-workers', hpaName: 'heavy-hpa', message: 'All 3 worker(s) are ready' });
  t.like(condition(running, 'Ready'), { status: 'True', reason: 'WorkersReady' });
  t.like(condition(running, 'Autoscaling'), { status: 'True', reason: 'HPAActive' });
  t.deepEqual(running.metadata.finalizers, [WORKER_POOL_FINALIZER]);
  const text = await metricsText();
  t.true(text.includes('storm_worker_pool_replicas{pool="heavy",namespace="pools",topology="wordcount",state="ready"} 3'), text.split('\n').filter((l) => l.startsWith('storm_worker')).join('\n'));
  t.true(text.includes('storm_worker_pool_info{pool="heavy",namespace="pools",topology="wordcount",phase="Running"} 1'));

  // Partial readiness shows in status and in the gauges.
  h.host.kubelet.setReadyReplicas('Deployment', 'pools', 'heavy-workers', 1);
  const partial = await phaseIs(h.pools, 'pools', 'heavy', 'Creating', (o) => o.status.readyReplicas === 1);
  t.like(condition(partial, 'Ready'), { status: 'False', reason: 'WorkersNotReady', message: '1 of 3 worker(s) are ready' });
  await eventually(async () => (await metricsText()).includes('storm_worker_pool_info{pool="heavy",namespace="pools",topology="wordcount",phase="Creating"} 1'), 'the info gauge in phase Creating');
  t.false((await metricsText()).includes('phase="Running"} 1\nstorm_worker_pool_info{pool="heavy"'));
  h.host.kubelet.setReadyReplicas('Deployment', 'pools', 'heavy-workers', undefined);

  // Autoscaling off: the HPA goes, spec.replicas applies again.
  await editObject(h.pools, 'pools', 'heavy', (o) => {
    o.spec.autoscaling.enabled = false;
    o.spec.replicas = 4;
  });
  await eventually(() => gone(() => autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace: 'pools', name: 'heavy-hpa' })), 'the HPA deleted');
  await eventually(async () => (await apps.readNamespacedDeployment({ namespace: 'pools', name: 'heavy-workers' })).spec!.replicas === 4, 'replicas 4');
  const manual = await phaseIs(h.pools, 'pools', 'heavy', 'Running', (o) => o.status.readyReplicas === 4 && o.status.hpaName === undefined);
  t.like(condition(manual, 'Autoscaling'), { status: 'False', reason: 'AutoscalingDisabled' });

  await h.pools.delete({ namespace: 'pools', name: 'heavy' }, { dryRun: false });
  await eventually(() => gone(() => getObject(h.pools, 'pools', 'heavy').catch((e) => Promise.reject({ code: e.status?.code }))), 'the pool gone');
  t.true(await gone(() => apps.readNamespacedDeployment({ namespace: 'pools', name: 'heavy-workers' })));
  t.true(await gone(() => h.core.readNamespacedService({ namespace: 'pools', name: 'heavy-workers' })));
  t.false((await metricsText()).includes('pool="heavy"'), 'the gauges of the pool removed');
});

test.serial('a pool whose topology does not exist waits Pending without host objects (stand-in host cluster)', async (t) => {
  await createObject(h.pools, { apiVersion: 'storm.apache.org/v1beta1', kind: 'StormWorkerPool', metadata: { name: 'stray', namespace: 'lonely' }, spec: { topologyRef: 'nothing' } });
  const pending = await phaseIs(h.pools, 'lonely', 'stray', 'Pending', (o) => condition(o, 'Ready') !== undefined);
  t.like(condition(pending, 'Ready'), { status: 'False', reason: 'TopologyNotFound' });
  t.deepEqual((await apps.listNamespacedDeployment({ namespace: 'lonely' })).items, []);
});
