export async function run(_argv: string[]): Promise<number> {
  process.stderr.write('usage: tessera cluster status | failover [--to NODE]\n');
  return 2;
}
