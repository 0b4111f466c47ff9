// Filter 4: max-in-flight. Two budgets, read-only and mutating (kube-apiserver's
// --max-requests-inflight and --max-mutating-requests-inflight); long-running requests (watch) are
// not counted; over the budget → 429 TooManyRequests with `Retry-After: 1`. Members of
// system:masters are never turned away (as in kube-apiserver: a super-user always gets an answer).
import { MASTERS_GROUP } from '../authn/user.js';
import { tooManyRequests } from '../errors.js';
import { isLongRunning, isMutatingVerb } from '../request-info.js';
import type { RequestEnd, RequestFilter } from './chain.js';

export const RETRY_AFTER_SECONDS = 1;

/** A counting budget; a limit of 0 means unlimited. */
export class InflightBudget {
  private inUse = 0;
  constructor(readonly limit: number) {}
  tryAcquire(): boolean {
    if (this.limit > 0 && this.inUse >= this.limit) return false;
    this.inUse++;
    return true;
  }
  release(): void {
    this.inUse--;
  }
  get current(): number {
    return this.inUse;
  }
}

export function maxInFlightFilter(limits: { readOnly: number; mutating: number }): RequestFilter {
  const readOnly = new InflightBudget(limits.readOnly);
  const mutating = new InflightBudget(limits.mutating);
  return (req) => {
    const info = req.requestInfo;
    if (isLongRunning(info)) return;
    const budget = isMutatingVerb(info.verb) ? mutating : readOnly;
    if (!budget.tryAcquire()) {
      if (req.user?.groups.includes(MASTERS_GROUP)) return;
      throw tooManyRequests(RETRY_AFTER_SECONDS); // sendStatus adds Retry-After from the details
    }
    req.filterState.inflightBudget = budget;
  };
}

/** Gives the request's slot back once its response is done or its connection went away. */
export const maxInFlightEnd: RequestEnd = (req) => {
  const state = req.filterState;
  const budget = state.inflightBudget;
  if (budget === undefined) return;
  state.inflightBudget = undefined;
  budget.release();
};
