// The authorizer contract (k8s.io/apiserver pkg/authorization/authorizer): attributes of a
// request, a decision, and a chain where the first Allow or Deny wins and NoOpinion moves on.
import type { RequestInfo } from '../request-info.js';
import type { UserInfo } from '../authn/user.js';

export interface AuthorizationAttributes {
  user: UserInfo;
  verb: string;
  isResourceRequest: boolean;
  /** Non-resource requests: the URL path. */
  path: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
}

export type Decision = 'allow' | 'deny' | 'no-opinion';

export interface AuthorizationResult {
  decision: Decision;
  /** Why, when the authorizer says; appended to the 403 message. */
  reason?: string;
}

export interface Authorizer {
  readonly name: string;
  authorize(attrs: AuthorizationAttributes): Promise<AuthorizationResult> | AuthorizationResult;
}

export function attributesOf(user: UserInfo, info: RequestInfo): AuthorizationAttributes {
  return {
    user,
    verb: info.verb,
    isResourceRequest: info.isResourceRequest,
    path: info.path,
    apiGroup: info.apiGroup,
    apiVersion: info.apiVersion,
    namespace: info.namespace,
    resource: info.resource,
    subresource: info.subresource,
    name: info.name,
  };
}

/** Runs `authorizers` in order; the first that has an opinion decides. */
export class AuthorizerChain implements Authorizer {
  readonly name = 'chain';
  constructor(private readonly authorizers: Authorizer[]) {}

  /** Synchronous while every authorizer asked answers synchronously (RBAC, always-allow). */
  authorize(attrs: AuthorizationAttributes): Promise<AuthorizationResult> | AuthorizationResult {
    return this.authorizeFrom(attrs, 0, []);
  }

  private authorizeFrom(attrs: AuthorizationAttributes, from: number, reasons: string[]): Promise<AuthorizationResult> | AuthorizationResult {
    for (let i = from; i < this.authorizers.length; i++) {
      const answer = this.authorizers[i].authorize(attrs);
      if (answer instanceof Promise) {
        return answer.then((result) => {
          if (result.decision !== 'no-opinion') return result;
          if (result.reason) reasons.push(result.reason);
          return this.authorizeFrom(attrs, i + 1, reasons);
        });
      }
      if (answer.decision !== 'no-opinion') return answer;
      if (answer.reason) reasons.push(answer.reason);
    }
    return { decision: 'no-opinion', ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}) };
  }
}

/**
 * The text after `is forbidden: ` in a 403, exactly as kube-apiserver's responsewriters
 * forbiddenMessage words it.
 */
export function forbiddenMessage(attrs: AuthorizationAttributes): string {
  const user = attrs.user.username;
  if (!attrs.isResourceRequest) return `User ${JSON.stringify(user)} cannot ${attrs.verb} path ${JSON.stringify(attrs.path)}`;
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const scope = attrs.namespace ? `in the namespace ${JSON.stringify(attrs.namespace)}` : 'at the cluster scope';
  return `User ${JSON.stringify(user)} cannot ${attrs.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(attrs.apiGroup)} ${scope}`;
}
