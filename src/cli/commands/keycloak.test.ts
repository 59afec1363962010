import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { CONFIG_KEYS, desiredConfig, parseSetupArgs, type SetupOptions } from './keycloak.ts';

const REQUIRED = [
  '--keycloak-url',
  'http://127.0.0.1:8081/',
  '--realm',
  'corp',
  '--admin-user',
  'admin',
  '--admin-password',
  'pw',
  '--tessera-url',
  'https://otp.example.org//',
  '--api-key',
  'k1',
];

function parsed(extra: string[] = []): SetupOptions {
  const o = parseSetupArgs([...REQUIRED, ...extra]);
  assert.equal(typeof o, 'object', String(o));
  return o as SetupOptions;
}

describe('tessera keycloak setup arguments', () => {
  it('reads the contract options with safe defaults', () => {
    const o = parsed();
    assert.equal(o.keycloakUrl, 'http://127.0.0.1:8081');
    assert.equal(o.tesseraUrl, 'https://otp.example.org');
    assert.equal(o.adminRealm, 'master');
    assert.equal(o.adminClientId, 'admin-cli');
    assert.equal(o.flowAlias, 'tessera-browser');
    assert.equal(o.failMode, 'closed');
    assert.deepEqual(desiredConfig(o), {
      [CONFIG_KEYS.url]: 'https://otp.example.org',
      [CONFIG_KEYS.apiKey]: 'k1',
      [CONFIG_KEYS.failMode]: 'closed',
    });
  });

  it('maps the optional settings to the authenticator config', () => {
    const o = parsed([
      '--fail-mode',
      'open',
      '--timeout-ms',
      '1500',
      '--include-groups',
      'staff, /org/ops',
      '--exclude-groups',
      'robots',
      '--username-attribute',
      'email',
    ]);
    assert.deepEqual(desiredConfig(o), {
      [CONFIG_KEYS.url]: 'https://otp.example.org',
      [CONFIG_KEYS.apiKey]: 'k1',
      [CONFIG_KEYS.failMode]: 'open',
      [CONFIG_KEYS.timeoutMs]: '1500',
      [CONFIG_KEYS.includeGroups]: 'staff##/org/ops',
      [CONFIG_KEYS.excludeGroups]: 'robots',
      [CONFIG_KEYS.usernameAttribute]: 'email',
    });
  });

  it('refuses incomplete or malformed arguments without echoing secrets', () => {
    const missing = parseSetupArgs(['--realm', 'corp', '--api-key', 'sekrit']);
    assert.equal(typeof missing, 'string');
    assert.match(missing as string, /--keycloak-url/);
    assert.ok(!(missing as string).includes('sekrit'));
    assert.match(parseSetupArgs([...REQUIRED, '--fail-mode', 'ajar']) as string, /fail-mode/);
    assert.match(parseSetupArgs([...REQUIRED, '--timeout-ms', '5']) as string, /timeout-ms/);
    assert.match(
      parseSetupArgs([
        ...REQUIRED.slice(0, 8),
        '--tessera-url',
        'otp.example.org',
        '--api-key',
        'k',
      ]) as string,
      /tessera-url/,
    );
    assert.equal(typeof parseSetupArgs([...REQUIRED, '--bogus']), 'string');
  });
});
