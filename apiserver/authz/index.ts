// Builds the authorizer from the options: always-allowed requests first, then either the host
// cluster's SubjectAccessReview (delegated) or the built-in RBAC policy file (standalone; without
// a file nobody but system:masters gets past the always-allowed paths).
import { AuthorizationV1Api } from '@kubernetes/client-node';
import { loadKubeconfig } from '../authn/index.js';
import type { SecurityOptions } from '../filters/options.js';
import { AlwaysAllowAuthorizer } from './always-allow.js';
import { AuthorizerChain, type Authorizer } from './authorizer.js';
import { RbacAuthorizer, RbacPolicy } from './rbac.js';
import { RbacPolicyFile } from './rbac-policy-file.js';
import { SubjectAccessReviewAuthorizer, type SubjectAccessReviewer } from './subject-access-review.js';

export interface Authorization {
  authorizer: Authorizer;
  start(onError: (err: unknown) => void): void;
  stop(): void;
}

export function subjectAccessReviewer(kubeconfigPath: string, requestTimeoutMs?: number): SubjectAccessReviewer {
  const api = loadKubeconfig(kubeconfigPath, requestTimeoutMs).makeApiClient(AuthorizationV1Api);
  return async (spec) => {
    const review = await api.createSubjectAccessReview({
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec },
    });
    return review.status ?? { allowed: false };
  };
}

/** `hostRequestTimeoutMs` bounds each SubjectAccessReview (`--host-request-timeout`; default 30 s). */
export function buildAuthorization(options: SecurityOptions, hostRequestTimeoutMs?: number): Authorization {
  const flags = options.authorization;
  const alwaysAllow = new AlwaysAllowAuthorizer(flags.alwaysAllowPaths);
  if (flags.kubeconfig) {
    const sar = new SubjectAccessReviewAuthorizer({
      review: subjectAccessReviewer(flags.kubeconfig, hostRequestTimeoutMs),
      allowedTtlMs: flags.allowedTtlMs,
      deniedTtlMs: flags.deniedTtlMs,
    });
    return { authorizer: new AuthorizerChain([alwaysAllow, sar]), start() {}, stop() {} };
  }
  const file = flags.rbacPolicyFile ? new RbacPolicyFile(flags.rbacPolicyFile) : undefined;
  const empty = RbacPolicy.empty();
  const rbac = new RbacAuthorizer(() => file?.policy() ?? empty);
  return {
    authorizer: new AuthorizerChain([alwaysAllow, rbac]),
    start(onError) {
      file?.watchForChanges(options.fileReloadIntervalMs, onError);
    },
    stop() {
      file?.stop();
    },
  };
}
