// Filter 2: audit. Every request gets an Audit-ID (the client's, or a new UUID) as a response
// header; when an audit log is configured, one audit.k8s.io/v1 Event per request at stage
// ResponseComplete is written as a JSON line, at the level the policy gives the request.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { auditLevel, type AuditLevel, type AuditPolicy } from './audit-policy.js';
import { redactCredentials } from './audit-redaction.js';
import type { RequestFilter } from './chain.js';

export interface AuditSink {
  write(event: AuditEvent): void;
  close(): Promise<void>;
}

export interface AuditEvent {
  kind: 'Event';
  apiVersion: 'audit.k8s.io/v1';
  level: AuditLevel;
  auditID: string;
  stage: 'ResponseComplete';
  requestURI: string;
  verb: string;
  user: { username: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  sourceIPs: string[];
  userAgent?: string;
  objectRef?: {
    resource?: string;
    namespace?: string;
    name?: string;
    apiGroup?: string;
    apiVersion?: string;
    subresource?: string;
  };
  responseStatus: { metadata: Record<string, never>; code: number; status?: string; message?: string; reason?: string };
  requestObject?: unknown;
  responseObject?: unknown;
  requestReceivedTimestamp: string;
  stageTimestamp: string;
  annotations?: Record<string, string>;
}

/** JSON lines to a file (appended) or, for `-`, to stdout. */
export function fileAuditSink(path: string): AuditSink {
  const stream: WriteStream | NodeJS.WriteStream = path === '-' ? process.stdout : createWriteStream(path, { flags: 'a' });
  return {
    write(event) {
      stream.write(`${JSON.stringify(event)}\n`);
    },
    close() {
      if (path === '-') return Promise.resolve();
      return new Promise((resolve) => (stream as WriteStream).end(resolve));
    },
  };
}

/** RFC 3339 with microseconds, as metav1.MicroTime. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

interface AuditState {
  receivedAt: Date;
  responseBody?: string;
}

const states = new WeakMap<FastifyRequest, AuditState>();

/**
 * The audit filter (Audit-ID, and the request's audit state when there is an audit log); with an
 * audit log, also installs on `app` the hooks that write its event when the response is done.
 */
export function auditFilter(app: FastifyInstance, audit: { policy: AuditPolicy; sink?: AuditSink }): RequestFilter {
  const sink = audit.sink;
  const filter: RequestFilter = (req, reply) => {
    const given = req.headers['audit-id'];
    req.auditID = typeof given === 'string' && given.trim() !== '' ? given.trim() : randomUUID();
    reply.header('Audit-ID', req.auditID);
    // Only an audit log needs the request's audit state.
    if (sink) states.set(req, { receivedAt: new Date() });
  };
  if (!sink) return filter;
  app.addHook('onSend', async (req, reply, payload) => {
    const state = states.get(req);
    // Keep the body of failures (their Status) and, for RequestResponse, of everything.
    if (state && typeof payload === 'string' && (reply.statusCode >= 400 || auditLevel(audit.policy, req.user, req.requestInfo) === 'RequestResponse')) {
      state.responseBody = payload;
    }
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    const state = states.get(req);
    if (!state || !req.requestInfo) return;
    const level = auditLevel(audit.policy, req.user, req.requestInfo);
    if (level === 'None') return;
    sink.write(auditEvent(req, reply.statusCode, level, state));
  });
  return filter;
}

function auditEvent(req: FastifyRequest, code: number, level: AuditLevel, state: AuditState): AuditEvent {
  const info = req.requestInfo;
  const user = req.user ?? { username: '', groups: [] };
  const event: AuditEvent = {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level,
    auditID: req.auditID,
    stage: 'ResponseComplete',
    requestURI: req.url,
    verb: info.verb,
    user: {
      username: user.username,
      ...(user.uid ? { uid: user.uid } : {}),
      ...(user.groups.length ? { groups: user.groups } : {}),
      ...(user.extra ? { extra: user.extra } : {}),
    },
    sourceIPs: [req.ip],
    ...(req.headers['user-agent'] ? { userAgent: String(req.headers['user-agent']) } : {}),
    responseStatus: { metadata: {}, code },
    requestReceivedTimestamp: microTime(state.receivedAt),
    stageTimestamp: microTime(new Date()),
  };
  if (info.isResourceRequest) {
    event.objectRef = {
      resource: info.resource,
      ...(info.namespace ? { namespace: info.namespace } : {}),
      ...(info.name ? { name: info.name } : {}),
      apiGroup: info.apiGroup,
      apiVersion: info.apiVersion,
      ...(info.subresource ? { subresource: info.subresource } : {}),
    };
  }
  const status = parseJson(state.responseBody);
  if (code >= 400 && isStatus(status)) {
    event.responseStatus = { metadata: {}, status: status.status, message: status.message, reason: status.reason, code };
  }
  if (level === 'Request' || level === 'RequestResponse') {
    const body = req.body;
    const requestObject = Buffer.isBuffer(body) ? parseJson(body.toString('utf8')) : undefined;
    if (requestObject !== undefined) event.requestObject = redactCredentials(requestObject);
  }
  if (level === 'RequestResponse') {
    const responseObject = parseJson(state.responseBody);
    if (responseObject !== undefined) event.responseObject = redactCredentials(responseObject);
  }
  return event;
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isStatus(v: unknown): v is { status: string; message: string; reason: string } {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'Status';
}
