import test from 'ava';
import { resolveRequestInfo, type RequestInfo } from '../../apiserver/request-info.js';

const G = '/apis/storm.apache.org/v1beta1';
type Expect = Partial<RequestInfo>;

const cases: Array<[string, string, Expect]> = [
  ['GET', `${G}/namespaces/ns/stormtopologies`, { isResourceRequest: true, verb: 'list', apiGroup: 'storm.apache.org', apiVersion: 'v1beta1', namespace: 'ns', resource: 'stormtopologies', subresource: '', name: '' }],
  ['GET', `${G}/stormtopologies`, { verb: 'list', namespace: '', resource: 'stormtopologies' }],
  ['GET', `${G}/namespaces/ns/stormtopologies?watch=true`, { verb: 'watch', resource: 'stormtopologies' }],
  ['GET', `${G}/namespaces/ns/stormtopologies?watch=1&resourceVersion=5`, { verb: 'watch' }],
  ['GET', `${G}/namespaces/ns/stormtopologies?watch=false`, { verb: 'list' }],
  ['GET', `${G}/watch/namespaces/ns/stormtopologies`, { verb: 'watch', namespace: 'ns', resource: 'stormtopologies' }],
  ['GET', `${G}/namespaces/ns/stormtopologies?fieldSelector=metadata.name%3Dwc`, { verb: 'list', name: 'wc' }],
  ['GET', `${G}/namespaces/ns/stormtopologies?watch=true&fieldSelector=metadata.name%3D%3Dwc`, { verb: 'watch', name: 'wc' }],
  ['GET', `${G}/namespaces/ns/stormtopologies/wc`, { verb: 'get', name: 'wc', subresource: '' }],
  ['HEAD', `${G}/namespaces/ns/stormtopologies/wc`, { verb: 'get', name: 'wc' }],
  ['GET', `${G}/namespaces/ns/stormtopologies/wc?watch=true`, { verb: 'get', name: 'wc' }],
  ['POST', `${G}/namespaces/ns/stormtopologies`, { verb: 'create', name: '' }],
  ['PUT', `${G}/namespaces/ns/stormtopologies/wc`, { verb: 'update', name: 'wc' }],
  ['PATCH', `${G}/namespaces/ns/stormtopologies/wc`, { verb: 'patch', name: 'wc' }],
  ['DELETE', `${G}/namespaces/ns/stormtopologies/wc`, { verb: 'delete', name: 'wc' }],
  ['DELETE', `${G}/namespaces/ns/stormtopologies`, { verb: 'deletecollection', name: '' }],
  ['GET', `${G}/namespaces/ns/stormtopologies/wc/status`, { verb: 'get', subresource: 'status', name: 'wc' }],
  ['PUT', `${G}/namespaces/ns/stormtopologies/wc/status`, { verb: 'update', subresource: 'status' }],
  ['POST', `${G}/namespaces/ns/stormtopologies/wc/promote`, { verb: 'create', subresource: 'promote', name: 'wc', namespace: 'ns' }],
  ['PATCH', '/apis/storm.apache.org/v1beta1/namespaces/ns/stormworkerpools/p/scale', { verb: 'patch', resource: 'stormworkerpools', subresource: 'scale' }],
  ['GET', '/apis/pvc-chonker.io/v1alpha1/pvcpolicies/p', { verb: 'get', apiGroup: 'pvc-chonker.io', resource: 'pvcpolicies', namespace: '', name: 'p' }],
  ['GET', '/apis/x/v1/namespaces/ns/pods/p/proxy/a/b', { resource: 'pods', name: 'p', subresource: 'proxy' }],
  ['GET', '/api/v1/namespaces/ns', { isResourceRequest: true, apiPrefix: 'api', apiGroup: '', apiVersion: 'v1', resource: 'namespaces', name: 'ns', namespace: 'ns' }],
  ['GET', '/api/v1/namespaces/ns/configmaps/c', { resource: 'configmaps', namespace: 'ns', name: 'c' }],
  ['GET', '/api/v1/namespaces', { resource: 'namespaces', verb: 'list', namespace: '' }],
  ['GET', '/api/v1/namespaces/ns/status', { resource: 'namespaces', name: 'ns', subresource: 'status' }],
  ['POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { verb: 'create', apiGroup: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews' }],
  ['GET', `${G}/namespaces/ns/stormtopologies/with%20space`, { name: 'with space' }],
  // Non-resource paths: the verb is the lowercased method.
  ['GET', '/apis', { isResourceRequest: false, verb: 'get', path: '/apis' }],
  ['GET', '/apis/storm.apache.org', { isResourceRequest: false, apiGroup: 'storm.apache.org' }],
  ['GET', '/apis/storm.apache.org/v1beta1', { isResourceRequest: false, apiVersion: 'v1beta1' }],
  ['GET', '/api', { isResourceRequest: false }],
  ['GET', '/api/v1', { isResourceRequest: false }],
  ['GET', '/healthz?verbose', { isResourceRequest: false, verb: 'get', path: '/healthz' }],
  ['POST', '/foo/bar', { isResourceRequest: false, verb: 'post', path: '/foo/bar' }],
  ['GET', '/openapi/v3/apis/storm.apache.org/v1beta1', { isResourceRequest: false, path: '/openapi/v3/apis/storm.apache.org/v1beta1' }],
];

for (const [method, url, expected] of cases) {
  test(`${method} ${url}`, (t) => {
    const info = resolveRequestInfo(method, url);
    const picked = Object.fromEntries(Object.keys(expected).map((k) => [k, info[k as keyof RequestInfo]]));
    t.deepEqual(picked, expected);
  });
}
