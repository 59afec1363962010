// `tessera keycloak setup`: puts the tessera-otp step into a realm's browser flow through Keycloak's admin API.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import KcAdminClient from '@keycloak/keycloak-admin-client';
import type AuthenticationExecutionInfoRepresentation from '@keycloak/keycloak-admin-client/lib/defs/authenticationExecutionInfoRepresentation.js';

export const PROVIDER_ID = 'tessera-otp';
const FAIL_MODES = ['closed', 'open'] as const;

/** Keys of the authenticator config; they must match TesseraConfig.java. */
export const CONFIG_KEYS = {
  url: 'tessera.url',
  apiKey: 'tessera.apiKey',
  timeoutMs: 'tessera.timeoutMs',
  includeGroups: 'tessera.includeGroups',
  excludeGroups: 'tessera.excludeGroups',
  usernameAttribute: 'tessera.usernameAttribute',
  failMode: 'tessera.failMode',
} as const;

export interface SetupOptions {
  keycloakUrl: string;
  realm: string;
  adminUser: string;
  adminPassword: string;
  /** Realm the admin user lives in (master by default). */
  adminRealm: string;
  adminClientId: string;
  tesseraUrl: string;
  apiKey: string;
  flowAlias: string;
  failMode: (typeof FAIL_MODES)[number];
  timeoutMs?: number;
  includeGroups?: string[];
  excludeGroups?: string[];
  usernameAttribute?: string;
}

const USAGE = `usage: tessera keycloak setup --keycloak-url URL --realm REALM
         --admin-user U (--admin-password P | --admin-password-file F)
         --tessera-url URL (--api-key KEY | --api-key-file F)
         [--flow-alias tessera-browser] [--fail-mode closed|open] [--timeout-ms 5000]
         [--include-groups g1,g2] [--exclude-groups g3] [--username-attribute ATTR]
         [--admin-realm master] [--admin-client-id admin-cli]

Copies the realm's "browser" flow (once), adds the Tessera step (provider ${PROVIDER_ID}) after the
password form as REQUIRED, writes its configuration and binds the flow as the realm's browser flow.
Running it again with the same arguments changes nothing.
`;

function readSecret(path: string): string {
  return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
}

function list(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Parses argv into options, or returns a usage error message. */
export function parseSetupArgs(argv: string[]): SetupOptions | string {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      strict: true,
      options: {
        'keycloak-url': { type: 'string' },
        realm: { type: 'string' },
        'admin-user': { type: 'string' },
        'admin-password': { type: 'string' },
        'admin-password-file': { type: 'string' },
        'admin-realm': { type: 'string' },
        'admin-client-id': { type: 'string' },
        'tessera-url': { type: 'string' },
        'api-key': { type: 'string' },
        'api-key-file': { type: 'string' },
        'flow-alias': { type: 'string' },
        'fail-mode': { type: 'string' },
        'timeout-ms': { type: 'string' },
        'include-groups': { type: 'string' },
        'exclude-groups': { type: 'string' },
        'username-attribute': { type: 'string' },
      },
    });
  } catch (err) {
    return (err as Error).message;
  }
  const v = parsed.values as Record<string, string | undefined>;
  const adminPassword =
    v['admin-password'] ?? (v['admin-password-file'] ? readSecret(v['admin-password-file']) : '');
  const apiKey = v['api-key'] ?? (v['api-key-file'] ? readSecret(v['api-key-file']) : '');
  const missing = [
    ['--keycloak-url', v['keycloak-url']],
    ['--realm', v.realm],
    ['--admin-user', v['admin-user']],
    ['--admin-password', adminPassword],
    ['--tessera-url', v['tessera-url']],
    ['--api-key', apiKey],
  ]
    .filter(([, value]) => !value)
    .map(([name]) => name);
  if (missing.length > 0) return `missing ${missing.join(', ')}`;
  for (const [name, url] of [
    ['--keycloak-url', v['keycloak-url']],
    ['--tessera-url', v['tessera-url']],
  ] as const) {
    if (!/^https?:\/\/[^/\s]+/i.test(url ?? '')) return `${name} must be an http(s) URL`;
  }
  const failMode = (v['fail-mode'] ?? 'closed') as SetupOptions['failMode'];
  if (!FAIL_MODES.includes(failMode)) return '--fail-mode must be closed or open';
  let timeoutMs: number | undefined;
  if (v['timeout-ms'] !== undefined) {
    timeoutMs = Number(v['timeout-ms']);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 60_000) {
      return '--timeout-ms must be an integer between 100 and 60000';
    }
  }
  const opts: SetupOptions = {
    keycloakUrl: v['keycloak-url']!.replace(/\/+$/, ''),
    realm: v.realm!,
    adminUser: v['admin-user']!,
    adminPassword,
    adminRealm: v['admin-realm'] ?? 'master',
    adminClientId: v['admin-client-id'] ?? 'admin-cli',
    tesseraUrl: v['tessera-url']!.replace(/\/+$/, ''),
    apiKey,
    flowAlias: v['flow-alias'] ?? 'tessera-browser',
    failMode,
  };
  if (timeoutMs !== undefined) opts.timeoutMs = timeoutMs;
  const include = list(v['include-groups']);
  if (include) opts.includeGroups = include;
  const exclude = list(v['exclude-groups']);
  if (exclude) opts.excludeGroups = exclude;
  if (v['username-attribute'] !== undefined) opts.usernameAttribute = v['username-attribute'];
  return opts;
}

/** The authenticator config the options describe. Keycloak joins multivalued strings with "##". */
export function desiredConfig(o: SetupOptions): Record<string, string> {
  const cfg: Record<string, string> = {
    [CONFIG_KEYS.url]: o.tesseraUrl,
    [CONFIG_KEYS.apiKey]: o.apiKey,
    [CONFIG_KEYS.failMode]: o.failMode,
  };
  if (o.timeoutMs !== undefined) cfg[CONFIG_KEYS.timeoutMs] = String(o.timeoutMs);
  if (o.includeGroups) cfg[CONFIG_KEYS.includeGroups] = o.includeGroups.join('##');
  if (o.excludeGroups) cfg[CONFIG_KEYS.excludeGroups] = o.excludeGroups.join('##');
  if (o.usernameAttribute !== undefined) cfg[CONFIG_KEYS.usernameAttribute] = o.usernameAttribute;
  return cfg;
}

/** Keycloak may answer a secret as this mask; such a value can only be compared by rewriting it. */
const SECRET_MASK = '**********';

function sameConfig(have: Record<string, string> | undefined, want: Record<string, string>): boolean {
  if (!have) return false;
  const keys = new Set([...Object.keys(have), ...Object.keys(want)]);
  for (const k of keys) {
    if ((have[k] ?? '') !== (want[k] ?? '')) return false;
  }
  return true;
}

type Execution = AuthenticationExecutionInfoRepresentation;

/**
 * Brings the realm to the desired state and returns what it changed (empty: nothing to do).
 * Each step checks before it writes, so a second run is a no-op.
 */
export async function setupKeycloak(o: SetupOptions): Promise<string[]> {
  const changes: string[] = [];
  const kc = new KcAdminClient({ baseUrl: o.keycloakUrl, realmName: o.adminRealm });
  try {
    await kc.auth({
      grantType: 'password',
      clientId: o.adminClientId,
      username: o.adminUser,
      password: o.adminPassword,
    });
  } catch (err) {
    throw new Error(
      `cannot log in to Keycloak as ${o.adminUser} (realm ${o.adminRealm}): ${(err as Error).message}`,
    );
  }
  kc.setConfig({ realmName: o.realm });

  const realm = await kc.realms.findOne({ realm: o.realm });
  if (!realm) throw new Error(`realm "${o.realm}" does not exist in Keycloak`);

  const providers = await kc.authenticationManagement.getAuthenticatorProviders();
  if (!providers.some((p) => p.id === PROVIDER_ID)) {
    throw new Error(
      `Keycloak has no "${PROVIDER_ID}" authenticator: copy tessera-keycloak.jar into its providers/ directory and restart it`,
    );
  }

  const flows = await kc.authenticationManagement.getFlows();
  if (!flows.some((f) => f.alias === o.flowAlias)) {
    await kc.authenticationManagement.copyFlow({ flow: 'browser', newName: o.flowAlias });
    changes.push(`copied the "browser" flow to "${o.flowAlias}"`);
  }

  let executions: Execution[] = await kc.authenticationManagement.getExecutions({ flow: o.flowAlias });
  let step = executions.find((e) => e.providerId === PROVIDER_ID);
  if (!step) {
    const forms = executions.find(
      (e) => e.authenticationFlow && e.level === 0 && /forms$/i.test(e.displayName ?? ''),
    );
    if (!forms?.displayName) {
      throw new Error(`flow "${o.flowAlias}" has no "forms" sub-flow to put the Tessera step in`);
    }
    await kc.authenticationManagement.addExecutionToFlow({ flow: forms.displayName, provider: PROVIDER_ID });
    executions = await kc.authenticationManagement.getExecutions({ flow: o.flowAlias });
    step = executions.find((e) => e.providerId === PROVIDER_ID);
    if (!step) throw new Error('Keycloak did not add the Tessera step');
    changes.push(`added the Tessera step to "${forms.displayName}"`);
  }

  if (step.requirement !== 'REQUIRED') {
    await kc.authenticationManagement.updateExecution(
      { flow: o.flowAlias },
      { ...step, requirement: 'REQUIRED' },
    );
    changes.push('made the Tessera step REQUIRED');
  }

  const want = desiredConfig(o);
  if (step.authenticationConfig) {
    const have = await kc.authenticationManagement.getConfig({ id: step.authenticationConfig });
    // A masked key cannot be compared, so it counts as unchanged; everything else is compared as is.
    const masked = have.config?.[CONFIG_KEYS.apiKey] === SECRET_MASK;
    const comparable = masked ? { ...have.config, [CONFIG_KEYS.apiKey]: o.apiKey } : have.config;
    if (!sameConfig(comparable, want)) {
      await kc.authenticationManagement.updateConfig({ id: have.id!, alias: have.alias!, config: want });
      changes.push('updated the Tessera step configuration');
    }
  } else {
    await kc.authenticationManagement.createConfig({
      id: step.id!,
      alias: `${o.flowAlias}-tessera`,
      config: want,
    });
    changes.push('configured the Tessera step');
  }

  if (realm.browserFlow !== o.flowAlias) {
    await kc.realms.update({ realm: o.realm }, { browserFlow: o.flowAlias });
    changes.push(`bound "${o.flowAlias}" as the browser flow of realm "${o.realm}"`);
  }
  return changes;
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'setup') {
    process.stderr.write(USAGE);
    return sub === '--help' || sub === '-h' ? 0 : 2;
  }
  const opts = parseSetupArgs(rest);
  if (typeof opts === 'string') {
    process.stderr.write(`tessera keycloak setup: ${opts}\n${USAGE}`);
    return 2;
  }
  const changes = await setupKeycloak(opts);
  if (changes.length === 0) {
    process.stdout.write(
      `realm "${opts.realm}" already uses flow "${opts.flowAlias}" with the Tessera step; nothing changed\n`,
    );
  } else {
    for (const c of changes) process.stdout.write(`${c}\n`);
  }
  return 0;
}
