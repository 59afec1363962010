import {
  EMPTY_TOKEN_STATE,
  type Group,
  type Token,
  type TokenState,
  type User,
  type UserAuthState,
} from '../../model/index.ts';
import type { AuthView } from '../types.ts';

/** Where a view reads its tokens' states when first asked (the store's token-state table). */
export interface TokenStateReader {
  get(serial: string): TokenState | undefined;
}

/**
 * One login's view of a user in the embedded store. The token states are read when first asked
 * for: a code login reads them inside its write transaction instead (decideAttempt), so reading
 * them here would be thrown away on the hot path.
 *
 * A class, not an object literal with `get tokenStates()`: a getter written in a literal gives each
 * view its own accessor pair, and V8 always allocates accessor pairs in the old generation
 * (`FactoryBase::NewAccessorPair`, `AllocationType::kOld`). That old object points at the view's
 * young getter closure, whose context holds the view's tokens, so every view's decoded records
 * outlived two scavenges and were promoted, to be freed only by a mark-compact. At 4,300 logins/s
 * on a bench node (open loop, `--trace-gc-nvp`), the node promoted about 570 KB per scavenge with
 * the literal and 230 KB with this class, whose getter on the prototype all views share. (In
 * isolation, 500 such literals per turn promoted 1.7 MB per scavenge and brought 87 mark-compacts
 * in 4 s; the class, none.)
 */
export class EmbeddedAuthView implements AuthView {
  private states: Map<string, TokenState> | undefined;

  constructor(
    readonly user: User,
    readonly group: Group | null,
    readonly tokens: Token[],
    readonly userState: UserAuthState,
    private readonly reader: TokenStateReader,
  ) {}

  get tokenStates(): ReadonlyMap<string, TokenState> {
    if (!this.states) {
      this.states = new Map();
      for (const t of this.tokens) this.states.set(t.serial, this.reader.get(t.serial) ?? EMPTY_TOKEN_STATE);
    }
    return this.states;
  }
}
