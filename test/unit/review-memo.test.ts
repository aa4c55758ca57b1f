import assert from 'node:assert/strict';
import { it } from 'node:test';
import { reviewInjection } from '../../src/inject/review.js';
import { testSettings } from '../helpers/settings.js';

const settings = testSettings();
const log = { warn: () => undefined, info: () => undefined };
const patchOf = (text: string): Array<{ path: string; value?: unknown }> => {
  const { review } = reviewInjection(JSON.parse(text), '/inject', () => settings, log, text);
  return JSON.parse(Buffer.from(review.response!.patch!, 'base64').toString('utf8'));
};
const uidOf = (text: string): string => reviewInjection(JSON.parse(text), '/inject', () => settings, log, text).review.response!.uid;
const body = (uid: string, app: string, objectFirst = false): string => {
  const object = `{"metadata":{"uid":"${uid}","namespace":"shop","labels":{"app":"${app}"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}`;
  return objectFirst
    ? `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"object":${object},"namespace":"shop","uid":"${uid}"}}`
    : `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"${uid}","namespace":"shop","object":${object}}}`;
};
const appLabel = (ops: Array<{ path: string; value?: unknown }>): unknown => ops.find((o) => o.path === '/metadata/labels/service.istio.io~1canonical-name')?.value;

it('answers replicas that differ only in the request uid from one memo entry, each with its own uid', () => {
  assert.equal(appLabel(patchOf(body('a-1', 'web'))), 'web');
  assert.equal(uidOf(body('a-2', 'web')), 'a-2');
  assert.deepEqual(patchOf(body('a-3', 'web')), patchOf(body('a-1', 'web')));
});

it('never answers a different pod from the memo, wherever the uid text first appears', () => {
  assert.equal(appLabel(patchOf(body('b-1', 'one', true))), 'one');
  assert.equal(appLabel(patchOf(body('b-2', 'two', true))), 'two');
  assert.equal(appLabel(patchOf(body('b-1', 'three'))), 'three');
});
