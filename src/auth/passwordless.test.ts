import assert from 'node:assert/strict';
import { test } from 'vitest';
import { type Client, DEFAULT_SETTINGS, type Settings } from '../model/index.ts';
import { sampleClient } from '../store/fixtures.ts';
import { passwordlessPaths } from './passwordless.ts';

const client = (over: Partial<Client>): Client => sampleClient('c1', { name: 'vpn', ...over });
const base = client({});
const paths = (s: Partial<Settings>, clients: Client[]) =>
  passwordlessPaths({ ...DEFAULT_SETTINGS, ...s }, clients).map((f) => [
    f.path,
    f.scope,
    f.client?.name ?? '-',
  ]);

test('the defaults have no passwordless path', () => {
  assert.deepEqual(paths({}, [base, client({ id: 'k', name: 'kc', kind: 'keycloak' })]), []);
});

test('newUserMode manual and after-first-token are global paths, named with the RADIUS clients they reach', () => {
  assert.deepEqual(paths({ newUserMode: 'manual' }, [base]), [['MFA_NOT_REQUIRED', 'global', '-']]);
  assert.deepEqual(paths({ newUserMode: 'after-first-token' }, []), [['NOT_ENROLLED_YET', 'global', '-']]);
  const [f] = passwordlessPaths({ ...DEFAULT_SETTINGS, newUserMode: 'manual' }, [base]);
  assert.match(f!.message, /RADIUS clients \(vpn\)/);
});

test('passthrough comes from the global setting or the client, and a client may turn it off', () => {
  assert.deepEqual(paths({ unknownUserPolicy: 'passthrough' }, [base]), [
    ['UNKNOWN_USER_PASSTHROUGH', 'global', 'vpn'],
  ]);
  assert.deepEqual(
    paths({ unknownUserPolicy: 'passthrough' }, [client({ unknownUserPolicy: 'reject' })]),
    [],
  );
  assert.deepEqual(paths({}, [client({ unknownUserPolicy: 'passthrough' })]), [
    ['UNKNOWN_USER_PASSTHROUGH', 'client', 'vpn'],
  ]);
});

test('an upstream first factor is a path for its client; disabled clients are left out', () => {
  const found = passwordlessPaths(DEFAULT_SETTINGS, [
    client({ firstFactor: 'upstream' }),
    client({ id: 'c2', name: 'old', firstFactor: 'upstream', enabled: false }),
  ]);
  assert.deepEqual(
    found.map((f) => [f.path, f.client?.id]),
    [['UPSTREAM_FIRST_FACTOR', 'c1']],
  );
  assert.match(found[0]!.message, /nothing else checks a password/);
});

test('every path at once', () => {
  assert.deepEqual(
    paths({ newUserMode: 'after-first-token', unknownUserPolicy: 'passthrough' }, [
      client({ firstFactor: 'upstream' }),
      client({ id: 'k', name: 'kc', kind: 'keycloak' }),
    ]),
    [
      ['NOT_ENROLLED_YET', 'global', '-'],
      ['UNKNOWN_USER_PASSTHROUGH', 'global', 'vpn'],
      ['UPSTREAM_FIRST_FACTOR', 'client', 'vpn'],
      ['UNKNOWN_USER_PASSTHROUGH', 'global', 'kc'],
    ],
  );
});
