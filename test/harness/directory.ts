// A real slapd as the directory source of a real node: the set-up the directory tests share.
import { personLdif, type SlapdProcess, startSlapd } from './slapd.ts';
import { Api, type Json, type StartOptions, startTessera, type TesseraHandle } from './tessera.ts';

export type Person = Parameters<typeof personLdif>[0];

/** What POST /v1/admin/directory/sources takes to read `slapd` (OpenLDAP preset, bound as its root DN). */
export interface SlapdSourceBody {
  name: string;
  url: string;
  bindDn: string;
  bindPassword: string;
  baseDn: string;
  preset: 'openldap';
}

/** The source body for `slapd`, named "corp" unless `over` says otherwise; `over` adds or replaces fields. */
export function slapdSource<T extends object = object>(slapd: SlapdProcess, over?: T): SlapdSourceBody & T {
  return {
    name: 'corp',
    url: slapd.url,
    bindDn: slapd.rootDn,
    bindPassword: slapd.rootPassword,
    baseDn: slapd.suffix,
    preset: 'openldap',
    ...over,
  } as SlapdSourceBody & T;
}

/** Adds `slapd` as a source of the node and syncs it once (its people become users); the sync's report. */
export async function addSyncedSource(admin: Api, slapd: SlapdProcess, over: object = {}): Promise<Json> {
  const body = slapdSource(slapd, over);
  await admin.ok('POST', '/v1/admin/directory/sources', body);
  return admin.ok('POST', `/v1/admin/directory/sources/${encodeURIComponent(body.name)}/sync`);
}

export interface DirectoryNode {
  slapd: SlapdProcess;
  node: TesseraHandle;
  /** The node's admin API. */
  admin: Api;
  stop(): Promise<void>;
}

/**
 * A slapd holding `people`, a node, and the slapd added and synced as source "corp" (`source`
 * adds fields to it): each person is a user of the node when this resolves.
 */
export async function startDirectoryNode(opts: {
  people: Person[];
  source?: object;
  tessera?: StartOptions;
}): Promise<DirectoryNode> {
  const slapd = await startSlapd();
  let node: TesseraHandle | undefined;
  try {
    slapd.ldif(opts.people.map((p) => personLdif(p)).join('\n'));
    node = await startTessera(opts.tessera);
    const admin = new Api(node.url, node.adminKey);
    await addSyncedSource(admin, slapd, opts.source);
    const started = node;
    return {
      slapd,
      node: started,
      admin,
      async stop() {
        await started.stop();
        await slapd.stop();
      },
    };
  } catch (err) {
    await node?.stop().catch(() => {});
    await slapd.stop();
    throw err;
  }
}
