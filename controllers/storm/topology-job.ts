// The submission Job of a StormTopology revision: `storm jar <jar> <mainClass> <stormName> <args…>
// -c nimbus.seeds=[…] -c k=v…` in the cluster's Storm image, with the jar brought into an emptyDir
// by an init container per source, and verified before use:
//   fetch-jar   url (http/https: curl or wget), s3 (aws-cli), configMap / secret (a volume; key
//               `topology.jar`, else the only `*.jar` key), container (copied out of the image)
//   verify-jar  `<algo>sum -c` against spec.topology.jar.checksum (value, or the digest file of a
//               container source); a mismatch exits CHECKSUM_EXIT with a one-line message
//   storm-jar   the submission
// The init containers write their failure to /dev/termination-log, and the Job's podFailurePolicy
// fails the Job at once on their exit codes, so the Job's `Failed` condition names the container
// and code (kube's PodFailurePolicy message); `jobFailure` turns that, or a pod's termination
// message when pods are readable, into a clear `lastError`.
import { createHash } from 'node:crypto';
import type { V1Container, V1Job, V1Pod, V1Volume } from '@kubernetes/client-node';
import type { KubeObject } from '../../registry/meta.js';
import { canonicalJson } from '../../registry/storm.apache.org/stormtopology/revisions.js';
import type { StormTopologySpec, TopologySpec } from '../../registry/storm.apache.org/stormtopology/types.js';
import { nimbusAddressOf } from '../../registry/storm.apache.org/upstreams.js';
import { labelValue, managedByAnnotations, managedByLabels } from '../host-client.js';
import { imageRef, stormList, TOPOLOGY_LABEL } from './workerpool-resources.js';

export const FETCH_CONTAINER = 'fetch-jar';
export const VERIFY_CONTAINER = 'verify-jar';
export const SUBMIT_CONTAINER = 'storm-jar';
/** Exit code of verify-jar on a digest mismatch. */
export const CHECKSUM_EXIT = 42;
/** Exit code of fetch-jar when the jar cannot be obtained. */
export const FETCH_EXIT = 43;
export const STORM_NAME_LABEL = 'storm.apache.org/storm-topology';
export const JAR_PATH = '/jars/topology.jar';
/** On a resubmission Job: which resubmission of the revision it is (1, 2, …). */
export const RESUBMISSION_ANNOTATION = 'storm.apache.org/resubmission';
const DIGEST_PATH = '/jars/topology.jar.digest';
const AWS_CLI_IMAGE = 'amazon/aws-cli:2.17.0';

const FAIL_FN = (code: number) => `fail() { echo "$1" > /dev/termination-log; echo "$1" >&2; exit ${code}; }`;

/**
 * The Job name of a submission: `<topology>-submit-<digest of what is submitted>` (≤ 63
 * characters). `attempt` > 0 is a resubmission of the same revision after Nimbus lost it: a Job of
 * its own (the first one completed long ago).
 */
export function submitJobName(topologyName: string, stormName: string, topology: TopologySpec, attempt = 0): string {
  const digest = createHash('sha256')
    .update(canonicalJson(attempt > 0 ? { stormName, topology, attempt } : { stormName, topology }))
    .digest('hex')
    .slice(0, 8);
  const prefix = topologyName.slice(0, 63 - '-submit-'.length - digest.length).replace(/-+$/, '');
  return `${prefix}-submit-${digest}`;
}

interface FetchStep {
  container: V1Container;
  volumes: V1Volume[];
  pullSecrets: string[];
}

function shell(script: string): string[] {
  return ['/bin/sh', '-c', script];
}

function fetchStep(topology: TopologySpec, stormImage: string): FetchStep {
  const jar = topology.jar;
  const mount = { name: 'jar', mountPath: '/jars' };
  const base = { name: FETCH_CONTAINER, terminationMessagePolicy: 'FallbackToLogsOnError' };
  if (jar.url && !jar.url.startsWith('s3://')) {
    const script = [
      'set -u',
      FAIL_FN(FETCH_EXIT),
      'if command -v curl >/dev/null 2>&1; then curl -fsSL --retry 3 -o "$JAR_PATH" "$JAR_URL" || fail "downloading the jar from $JAR_URL failed";',
      'elif command -v wget >/dev/null 2>&1; then wget -q -O "$JAR_PATH" "$JAR_URL" || fail "downloading the jar from $JAR_URL failed";',
      'else fail "the image has neither curl nor wget to download $JAR_URL"; fi',
    ].join('\n');
    return {
      container: { ...base, image: stormImage, command: shell(script), env: [{ name: 'JAR_URL', value: jar.url }, { name: 'JAR_PATH', value: JAR_PATH }], volumeMounts: [mount] },
      volumes: [],
      pullSecrets: [],
    };
  }
  if (jar.url || jar.s3) {
    const s3 = jar.s3;
    const location = jar.url ?? `s3://${s3!.bucket}/${s3!.key}`;
    const env = [
      { name: 'JAR_S3', value: location },
      { name: 'JAR_PATH', value: JAR_PATH },
      ...(s3?.region ? [{ name: 'AWS_REGION', value: s3.region }] : []),
      ...(s3?.endpoint ? [{ name: 'AWS_ENDPOINT_URL', value: s3.endpoint }] : []),
    ];
    return {
      container: {
        ...base,
        image: AWS_CLI_IMAGE,
        command: shell(['set -u', FAIL_FN(FETCH_EXIT), 'aws s3 cp --only-show-errors "$JAR_S3" "$JAR_PATH" || fail "downloading the jar from $JAR_S3 failed"'].join('\n')),
        env,
        ...(s3?.credentialsSecret ? { envFrom: [{ secretRef: { name: s3.credentialsSecret } }] } : {}),
        volumeMounts: [mount],
      },
      volumes: [],
      pullSecrets: [],
    };
  }
  if (jar.configMap || jar.secret) {
    const what = jar.configMap ? `ConfigMap ${jar.configMap}` : `Secret ${jar.secret}`;
    const volume: V1Volume = jar.configMap ? { name: 'jar-source', configMap: { name: jar.configMap } } : { name: 'jar-source', secret: { secretName: jar.secret! } };
    const script = [
      'set -u',
      FAIL_FN(FETCH_EXIT),
      'src=/jar-source/topology.jar',
      'if [ ! -f "$src" ]; then set -- /jar-source/*.jar; [ "$#" -eq 1 ] && [ -f "$1" ] || fail "$SOURCE has no key topology.jar and not exactly one *.jar key"; src="$1"; fi',
      'cp "$src" "$JAR_PATH" || fail "copying the jar out of $SOURCE failed"',
    ].join('\n');
    return {
      container: {
        ...base,
        image: stormImage,
        command: shell(script),
        env: [{ name: 'SOURCE', value: what }, { name: 'JAR_PATH', value: JAR_PATH }],
        volumeMounts: [mount, { name: 'jar-source', mountPath: '/jar-source', readOnly: true }],
      },
      volumes: [volume],
      pullSecrets: [],
    };
  }
  const c = jar.container!;
  const digestFile = (jar.checksum ?? c.checksum)?.file;
  const script = [
    'set -u',
    FAIL_FN(FETCH_EXIT),
    'cp "$SOURCE_PATH" "$JAR_PATH" || fail "copying $SOURCE_PATH out of image $SOURCE_IMAGE failed"',
    ...(digestFile ? [`cp "$DIGEST_FILE" "${DIGEST_PATH}" || fail "copying the digest file $DIGEST_FILE out of image $SOURCE_IMAGE failed"`] : []),
  ].join('\n');
  return {
    container: {
      ...base,
      image: c.image,
      imagePullPolicy: c.pullPolicy,
      command: shell(script),
      env: [
        ...((c.env ?? []) as V1Container['env'] & object),
        { name: 'SOURCE_PATH', value: c.path ?? '/app/topology.jar' },
        { name: 'SOURCE_IMAGE', value: c.image },
        { name: 'JAR_PATH', value: JAR_PATH },
        ...(digestFile ? [{ name: 'DIGEST_FILE', value: digestFile }] : []),
      ],
      ...(c.resources ? { resources: c.resources as V1Container['resources'] } : {}),
      ...(c.securityContext ? { securityContext: c.securityContext as V1Container['securityContext'] } : {}),
      volumeMounts: [mount, ...((c.volumeMounts ?? []) as unknown as NonNullable<V1Container["volumeMounts"]>)],
    },
    volumes: [],
    pullSecrets: (c.pullSecrets ?? []).map((s) => s.name).filter((n): n is string => !!n),
  };
}

function verifyStep(topology: TopologySpec, stormImage: string): V1Container | undefined {
  const checksum = topology.jar.checksum ?? topology.jar.container?.checksum;
  if (!checksum || (!checksum.value && !checksum.file)) return undefined;
  const algorithm = checksum.algorithm ?? 'sha256';
  const script = [
    'set -u',
    FAIL_FN(CHECKSUM_EXIT),
    `expected="\${EXPECTED_DIGEST:-}"`,
    `if [ -z "$expected" ]; then [ -f ${DIGEST_PATH} ] || fail "checksum mismatch: no digest file to verify the jar against"; expected=$(cut -d' ' -f1 ${DIGEST_PATH}); fi`,
    `expected=$(echo "$expected" | tr 'A-F' 'a-f')`,
    `if echo "$expected  ${JAR_PATH}" | ${algorithm}sum -c - >/dev/null 2>&1; then exit 0; fi`,
    `actual=$(${algorithm}sum ${JAR_PATH} | cut -d' ' -f1)`,
    `fail "checksum mismatch: the ${algorithm} digest of the jar is $actual, spec.topology.jar.checksum expects $expected"`,
  ].join('\n');
  return {
    name: VERIFY_CONTAINER,
    image: stormImage,
    terminationMessagePolicy: 'FallbackToLogsOnError',
    command: shell(script),
    env: checksum.value ? [{ name: 'EXPECTED_DIGEST', value: checksum.value }] : [],
    volumeMounts: [{ name: 'jar', mountPath: '/jars', readOnly: true }],
  };
}

/** The `storm jar` command line (the Storm topology name goes first among the main class's arguments). */
export function stormJarCommand(spec: StormTopologySpec, topology: TopologySpec, stormName: string, cluster: KubeObject): string[] {
  const address = nimbusAddressOf(cluster);
  const config: Array<[string, string]> = [
    ['nimbus.seeds', stormList([address.host])],
    ['nimbus.thrift.port', String(address.port)],
  ];
  const userConfig = topology.config ?? {};
  if (userConfig['topology.workers'] === undefined && spec.workers?.replicas !== undefined) config.push(['topology.workers', String(spec.workers.replicas)]);
  if (userConfig['topology.worker.childopts'] === undefined && spec.workers?.jvmOpts?.length) {
    config.push(['topology.worker.childopts', JSON.stringify(spec.workers.jvmOpts.join(' '))]);
  }
  for (const [k, v] of Object.entries(userConfig).sort(([a], [b]) => a.localeCompare(b))) config.push([k, v]);
  return ['storm', 'jar', JAR_PATH, topology.mainClass ?? '', stormName, ...(topology.args ?? []), ...config.flatMap(([k, v]) => ['-c', `${k}=${v}`])];
}

/** The submission Job of `topology` as Storm topology `stormName` on `cluster`. */
export function submissionJob(obj: KubeObject, cluster: KubeObject, topology: TopologySpec, stormName: string, attempt = 0): V1Job {
  const spec = obj.spec as StormTopologySpec;
  const stormImage = imageRef((cluster.spec as { image?: Record<string, string> } | undefined)?.image);
  const pullPolicy = (cluster.spec as { image?: { pullPolicy?: string } } | undefined)?.image?.pullPolicy;
  const clusterPullSecrets = [
    ...(((cluster.spec as { image?: { pullSecrets?: string[] } })?.image?.pullSecrets ?? []) as string[]),
    ...(((cluster.spec as { imagePullSecrets?: Array<{ name?: string }> })?.imagePullSecrets ?? []).map((s) => s.name ?? '').filter(Boolean)),
  ];
  const fetch = fetchStep(topology, stormImage);
  const verify = verifyStep(topology, stormImage);
  const labels = { ...managedByLabels(obj), 'app.kubernetes.io/name': 'storm', 'app.kubernetes.io/component': 'topology-submit', [TOPOLOGY_LABEL]: obj.metadata.name!, [STORM_NAME_LABEL]: labelValue(stormName) };
  const initContainers = [fetch.container, ...(verify ? [verify] : [])].map((c) => (c.image === stormImage && pullPolicy ? { ...c, imagePullPolicy: pullPolicy } : c));
  const timeout = topology.jar.container?.extractionTimeoutSeconds ?? 300;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: submitJobName(obj.metadata.name!, stormName, topology, attempt),
      namespace: obj.metadata.namespace,
      labels,
      annotations: {
        ...managedByAnnotations(obj),
        'storm.apache.org/storm-topology-name': stormName,
        ...(attempt > 0 ? { [RESUBMISSION_ANNOTATION]: String(attempt) } : {}),
      },
    },
    spec: {
      backoffLimit: 2,
      activeDeadlineSeconds: timeout + 600,
      podFailurePolicy: {
        rules: [
          { action: 'FailJob', onExitCodes: { containerName: VERIFY_CONTAINER, operator: 'In', values: [CHECKSUM_EXIT] } },
          { action: 'FailJob', onExitCodes: { containerName: FETCH_CONTAINER, operator: 'In', values: [FETCH_EXIT] } },
        ],
      },
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          initContainers,
          containers: [
            {
              name: SUBMIT_CONTAINER,
              image: stormImage,
              ...(pullPolicy ? { imagePullPolicy: pullPolicy } : {}),
              terminationMessagePolicy: 'FallbackToLogsOnError',
              command: stormJarCommand(spec, topology, stormName, cluster),
              volumeMounts: [{ name: 'jar', mountPath: '/jars', readOnly: true }],
            },
          ],
          volumes: [{ name: 'jar', emptyDir: {} }, ...fetch.volumes],
          ...([...clusterPullSecrets, ...fetch.pullSecrets].length ? { imagePullSecrets: [...new Set([...clusterPullSecrets, ...fetch.pullSecrets])].map((name) => ({ name })) } : {}),
        },
      },
    },
  };
}

export type JobOutcome = { state: 'Running' } | { state: 'Succeeded' } | { state: 'Failed'; message: string };

/** What a Job's conditions say (and for a failure, the clearest message its pods or conditions give). */
export function jobOutcome(job: V1Job, pods: V1Pod[] = []): JobOutcome {
  const conditions = job.status?.conditions ?? [];
  if (conditions.some((c) => c.type === 'Complete' && c.status === 'True')) return { state: 'Succeeded' };
  const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
  if (!failed) return { state: 'Running' };
  return { state: 'Failed', message: jobFailure(job, failed.reason, failed.message, pods) };
}

function explain(container: string | undefined, exitCode: number | undefined, detail: string | undefined): string | undefined {
  if (container === VERIFY_CONTAINER && (exitCode === CHECKSUM_EXIT || exitCode === undefined)) {
    return detail?.includes('checksum mismatch') ? detail : `checksum mismatch: the downloaded jar does not match spec.topology.jar.checksum${detail ? ` (${detail})` : ''}`;
  }
  if (container === FETCH_CONTAINER) return `fetching the jar failed${detail ? `: ${detail}` : ''}`;
  if (container === SUBMIT_CONTAINER) return `storm jar failed${detail ? `: ${detail}` : ''}`;
  return undefined;
}

/**
 * The clearest failure message: a failed container's termination message (what the scripts write
 * to /dev/termination-log, or the log tail), else the Job's Failed condition — for a
 * podFailurePolicy failure that names the container and exit code — interpreted per container.
 */
export function jobFailure(job: V1Job, reason: string | undefined, message: string | undefined, pods: V1Pod[]): string {
  const where = `Job ${job.metadata?.namespace}/${job.metadata?.name}`;
  for (const pod of pods) {
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    for (const s of statuses) {
      const t = s.state?.terminated;
      if (t && t.exitCode !== 0) {
        const text = explain(s.name, t.exitCode, t.message?.trim() || undefined);
        if (text) return `${text} (${where})`;
      }
    }
  }
  const m = message ? /Container (\S+) for pod \S+ failed with exit code (\d+)/.exec(message) : null;
  if (m) {
    const text = explain(m[1], Number(m[2]), undefined);
    if (text) return `${text} (${where}: ${message})`;
  }
  return `the submission ${where} failed${reason ? ` (${reason})` : ''}${message ? `: ${message}` : ''}`;
}
