import { mergeTokenState, type TokenState } from '../../model/index.ts';

/**
 * The token states this node accepted recently. When the node's Redis is demoted or re-pointed,
 * whatever it wrote while apart may be discarded by the resync; the journal is pushed to the new
 * master by max-merge so those codes stay used.
 */
export class AcceptJournal {
  private readonly states = new Map<string, { state: TokenState; at: number }>();

  constructor(
    private readonly keepMs = 15 * 60_000,
    private readonly cap = 200_000,
  ) {}

  record(serial: string, state: TokenState, now = Date.now()): void {
    const prev = this.states.get(serial);
    this.states.delete(serial);
    this.states.set(serial, { state: prev ? mergeTokenState(prev.state, state) : state, at: now });
    if (this.states.size > this.cap) {
      const oldest = this.states.keys().next().value;
      if (oldest !== undefined) this.states.delete(oldest);
    }
  }

  entries(now = Date.now()): [string, TokenState][] {
    const out: [string, TokenState][] = [];
    for (const [serial, e] of this.states) {
      if (now - e.at > this.keepMs) this.states.delete(serial);
      else out.push([serial, e.state]);
    }
    return out;
  }

  get size(): number {
    return this.states.size;
  }
}
