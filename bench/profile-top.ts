// Summarises a V8 CPU profile: the functions and the modules that took the most self time.
import type { Profiler } from 'node:inspector';

export interface ProfileTop {
  sampledMs: number;
  /** `share` of all samples, self time (the function's own code). */
  functions: { fn: string; where: string; share: number }[];
  modules: { module: string; share: number }[];
  /**
   * Tessera's own functions (src/, plugin/) by inclusive time: each with everything it called, so
   * the path's steps (loadAuthView, matchCode, the audit append...) read as shares of the whole.
   */
  ownInclusive: { fn: string; module: string; share: number }[];
}

function moduleOf(url: string): string {
  if (!url) return '(native / V8)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return url;
  const src = url.search(/\/(src|plugin|bench)\//);
  return src >= 0 ? url.slice(src + 1) : url;
}

export function profileTop(profile: Profiler.Profile, n = 25): ProfileTop {
  const self = new Map<number, number>();
  const deltas = profile.timeDeltas ?? [];
  const samples = profile.samples ?? [];
  for (let i = 0; i < samples.length; i++)
    self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + (deltas[i] ?? 0));
  const total = [...self.values()].reduce((a, b) => a + b, 0) || 1;
  const byFn = new Map<string, { fn: string; where: string; us: number }>();
  const byModule = new Map<string, number>();
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0;
    if (!us) continue;
    const f = node.callFrame;
    const where = f.url ? `${moduleOf(f.url)}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName}@${where}`;
    const entry = byFn.get(key) ?? { fn: f.functionName || '(anonymous)', where, us: 0 };
    entry.us += us;
    byFn.set(key, entry);
    const m = moduleOf(f.url);
    byModule.set(m, (byModule.get(m) ?? 0) + us);
  }
  const share = (us: number) => +((us / total) * 100).toFixed(1);
  const inclusive = inclusiveByFunction(profile, self);
  return {
    sampledMs: Math.round(total / 1000),
    functions: [...byFn.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, n)
      .map((e) => ({ fn: e.fn, where: e.where, share: share(e.us) })),
    modules: [...byModule.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([module, us]) => ({ module, share: share(us) })),
    ownInclusive: [...inclusive.values()]
      .filter((e) => /^(src|plugin)\//.test(e.module))
      .sort((a, b) => b.us - a.us)
      .slice(0, n)
      .map((e) => ({ fn: e.fn, module: e.module, share: share(e.us) })),
  };
}

/** Each function's self time plus its callees', counted once where it recurses. */
function inclusiveByFunction(
  profile: Profiler.Profile,
  self: Map<number, number>,
): Map<string, { fn: string; module: string; us: number }> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const out = new Map<string, { fn: string; module: string; us: number }>();
  const onStack = new Set<string>();
  const walk = (id: number): number => {
    const node = byId.get(id);
    if (!node) return 0;
    const f = node.callFrame;
    const module = moduleOf(f.url);
    const key = `${f.functionName}@${module}`;
    const outermost = !onStack.has(key);
    if (outermost) onStack.add(key);
    let us = self.get(id) ?? 0;
    for (const child of node.children ?? []) us += walk(child);
    if (outermost) {
      onStack.delete(key);
      const entry = out.get(key) ?? { fn: f.functionName || '(anonymous)', module, us: 0 };
      entry.us += us;
      out.set(key, entry);
    }
    return us;
  };
  if (profile.nodes[0]) walk(profile.nodes[0].id);
  return out;
}
