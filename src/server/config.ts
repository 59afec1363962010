import { resolve } from 'node:path';
import { parseAddressList } from '../model/index.ts';

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  logLevel: string;
  redisUrl?: string;
  sentinels?: { host: string; port: number }[];
  sentinelName: string;
  /** X-Forwarded-For is read only from these proxies (addresses or CIDRs); none by default. */
  trustProxy: string[];
  masterKey?: string;
  /** Public URL of this node, for cluster status and snapshot pulls. */
  publicUrl?: string;
  nodeId?: string;
}

function parseSentinels(text: string | undefined): { host: string; port: number }[] | undefined {
  if (!text) return undefined;
  return text.split(',').map((part) => {
    const [host, port] = part.trim().split(':');
    const n = Number(port);
    if (!host || !Number.isInteger(n) || n <= 0 || n > 65535) {
      throw new Error(`TESSERA_SENTINELS: "${part}" is not host:port`);
    }
    return { host, port: n };
  });
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.TESSERA_PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error('TESSERA_PORT must be a port number');
  const trust = parseAddressList('TESSERA_TRUST_PROXY', env.TESSERA_TRUST_PROXY);
  if (!trust.ok) throw new Error(trust.error);
  const sentinels = parseSentinels(env.TESSERA_SENTINELS);
  return {
    host: env.TESSERA_HOST ?? '127.0.0.1',
    port,
    dataDir: resolve(env.TESSERA_DATA_DIR ?? './data'),
    logLevel: env.TESSERA_LOG_LEVEL ?? 'info',
    sentinelName: env.TESSERA_SENTINEL_NAME ?? 'tessera',
    trustProxy: trust.value,
    ...(env.TESSERA_REDIS_URL ? { redisUrl: env.TESSERA_REDIS_URL } : {}),
    ...(sentinels ? { sentinels } : {}),
    ...(env.TESSERA_MASTER_KEY ? { masterKey: env.TESSERA_MASTER_KEY } : {}),
    ...(env.TESSERA_PUBLIC_URL ? { publicUrl: env.TESSERA_PUBLIC_URL } : {}),
    ...(env.TESSERA_NODE_ID ? { nodeId: env.TESSERA_NODE_ID } : {}),
  };
}
