import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { TesseraError } from './errors.ts';
import {
  canonicalizeUnicode,
  canonicalizeUsername,
  canonicalUsername,
  requireCanonicalUsername,
  USERNAME_MAX_LENGTH,
  wellFormed,
  wellFormedDeep,
} from './username.ts';

const same = (names: string[], expected: string) => {
  for (const n of names) assert.equal(canonicalUsername(n), expected, JSON.stringify(n));
};
const refused = (raw: string, problem: RegExp) => {
  const r = canonicalizeUsername(raw);
  assert.equal(r.ok, false, JSON.stringify(raw));
  if (!r.ok) assert.match(r.problem, problem);
};

describe('canonicalUsername', () => {
  test('case, full-width forms and invisible characters name the same user', () => {
    same(
      [
        'dave',
        'Dave',
        'DAVE',
        'dave\u200b', // zero-width space
        '\u200bd\u200ca\u200dv\u2060e\ufeff', // ZWSP, ZWNJ, ZWJ, word joiner, BOM
        'ｄａｖｅ', // full-width
        'ＤＡＶＥ',
        '\u202edave\u202c', // right-to-left override and pop
        '\u200fdave\u200e', // RTL / LTR marks
        'da\u00adve', // soft hyphen
        ' dave ',
        'da\u00a0ve', // no-break space
        'da\u3000ve', // ideographic space
        'dave\u2028', // line separator
        'd\u034fave', // combining grapheme joiner
        '\u3164dave', // Hangul filler (a letter that shows as nothing)
        'dav\ufe0fe', // variation selector
      ],
      'dave',
    );
  });

  test('German sharp s folds to ss, in both cases', () => {
    same(['straße', 'STRASSE', 'Strasse', 'STRAẞE', 'straẞe'], 'strasse');
    same(['ß', 'ẞ', 'SS'], 'ss');
  });

  test('Turkish dotless ı joins i (the safe side); dotted İ keeps its dot as a combining mark', () => {
    same(['ılgaz', 'Ilgaz', 'ilgaz', 'ILGAZ'], 'ilgaz');
    assert.equal(canonicalUsername('İstanbul'), 'i\u0307stanbul');
    assert.equal(canonicalUsername('i\u0307stanbul'), 'i\u0307stanbul');
    assert.notEqual(canonicalUsername('İstanbul'), canonicalUsername('istanbul'));
  });

  test('ligatures and compatibility characters decompose', () => {
    same(['ﬁle', 'file', 'FILE', 'ＦＩＬＥ'], 'file');
    same(['ﬀ', 'ff'], 'ff');
    same(['\u212a', 'K', 'k'], 'k'); // Kelvin sign
    same(['\u2168', 'ix', 'IX'], 'ix'); // Roman numeral nine
    same(['①', '1'], '1');
    same(['ǅ', 'Ǆ', 'ǆ', 'dž', 'DŽ'], 'dž');
  });

  test('combining marks compose: precomposed and decomposed are one name', () => {
    same(['é', 'e\u0301', 'É', 'E\u0301'], 'é');
    // an invisible character between a letter and its mark does not split them
    same(['e\u200b\u0301'], 'é');
    same(['Ångström', 'A\u030angstro\u0308m', '\u212bngström'], 'ångström');
  });

  test('Greek final sigma and sigma are one letter', () => {
    assert.equal(canonicalUsername('ΣΑΣ'), canonicalUsername('σασ'));
    assert.equal(canonicalUsername('σας'), canonicalUsername('ΣΑΣ'));
    assert.equal(canonicalUsername('ς'), canonicalUsername('σ'));
  });

  test('a lone surrogate is refused, a real astral character is kept', () => {
    refused('dave\ud800', /not valid Unicode/);
    refused('\udfffdave', /not valid Unicode/);
    refused('a\udc00\ud800b', /not valid Unicode/);
    assert.equal(canonicalUsername('dave😀'), 'dave😀');
    assert.equal(canonicalUsername('𝐃𝐚𝐯𝐞'), 'dave'); // mathematical bold
  });

  test('empty after stripping, controls and reserved characters are refused', () => {
    refused('', /empty/);
    refused('\u200b\u200b', /empty/);
    refused(' \u00a0\u3000', /empty/);
    refused('da\u0000ve', /control/);
    refused('da\nve', /control/);
    refused('da\tve', /control/);
    refused('da\u0085ve', /control/);
    refused('a/b', /not allowed/);
    refused('a／b', /not allowed/); // full-width solidus becomes "/"
    refused('50％', /not allowed/); // full-width percent becomes "%"
    refused('%{User-Name}', /not allowed/);
    refused('a\ue000', /not allowed/); // private use
    refused('a\u0378', /not allowed/); // unassigned
    refused('lone\ufffd', /not allowed/); // a lone surrogate after a UTF-8 round trip
  });

  test('length is counted after NFKC expansion, and huge input is refused before any work', () => {
    assert.equal(canonicalUsername('a'.repeat(USERNAME_MAX_LENGTH)), 'a'.repeat(USERNAME_MAX_LENGTH));
    refused('a'.repeat(USERNAME_MAX_LENGTH + 1), /longer than/);
    // U+FDFA expands to 18 letters under NFKC (15 once its spaces are removed): 9 of them fit in
    // the raw schema limit but not after expansion
    const expanding = '\ufdfa'.repeat(9);
    assert.ok(expanding.length <= USERNAME_MAX_LENGTH);
    refused(expanding, /longer than/);
    assert.equal(
      [...(canonicalUsername('😀'.repeat(USERNAME_MAX_LENGTH)) ?? '')].length,
      USERNAME_MAX_LENGTH,
    );
    refused('a'.repeat(5000), /too long/);
    refused('\u200b'.repeat(2000), /too long/);
  });

  test('@ and backslash (user@realm, DOMAIN\\user) stay; other scripts stay', () => {
    assert.equal(canonicalUsername('Dave@Example.ORG'), 'dave@example.org');
    assert.equal(canonicalUsername('CORP\\Dave'), 'corp\\dave');
    assert.equal(canonicalUsername('Дмитрий'), 'дмитрий');
    assert.equal(canonicalUsername('山田'), '山田');
    assert.equal(canonicalUsername('محمد'), 'محمد');
  });

  test('the canonical form is a fixed point (canonical of canonical is itself)', () => {
    const pool = [
      ...'aAßẞıİiIσςΣﬁǅé\u0301\u0308\u200b\u00a0\u3000ｄＤ😀𝐃\u212a\u2168①ꭰᏸ\u0345ΐ\u1e9e\u0149',
      '\ufdfa',
    ];
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 5000; i++) {
      let raw = '';
      const len = 1 + (next() % 8);
      for (let j = 0; j < len; j++) raw += pool[next() % pool.length];
      const once = canonicalUsername(raw);
      if (once === null) continue;
      assert.equal(
        canonicalUsername(once),
        once,
        `not stable: ${JSON.stringify(raw)} → ${JSON.stringify(once)}`,
      );
      assert.equal(canonicalUsername(once.toUpperCase()), once, `upper case of ${JSON.stringify(once)}`);
    }
  });

  test('requireCanonicalUsername answers INVALID_USERNAME (400) without echoing the input', () => {
    assert.equal(requireCanonicalUsername('Dave'), 'dave');
    assert.throws(
      () => requireCanonicalUsername('evil\ud800<script>'),
      (err: unknown) =>
        err instanceof TesseraError &&
        err.code === 'INVALID_USERNAME' &&
        err.status === 400 &&
        !err.message.includes('evil'),
    );
  });
});

describe('wellFormed', () => {
  test('finds a lone surrogate anywhere in a parsed body', () => {
    assert.equal(wellFormed('a😀'), true);
    assert.equal(wellFormed('a\ud83d'), false);
    assert.equal(wellFormedDeep({ a: ['x', { b: 'ok' }], n: 1, z: null }), true);
    assert.equal(wellFormedDeep(JSON.parse('{"email":"a\\ud800@x"}')), false);
    assert.equal(wellFormedDeep(JSON.parse('{"m":{"deep":["\\udc00"]}}')), false);
    assert.equal(wellFormedDeep(JSON.parse('{"\\ud800":1}')), false);
  });
});

describe('the plain ASCII fast path', () => {
  // canonicalizeUsername answers plain ASCII names without the Unicode work; it must answer
  // exactly what the full path answers, for every name, plain or not.
  const ascii = Array.from({ length: 0x80 }, (_, i) => String.fromCharCode(i));
  const agrees = (raw: string) =>
    assert.deepEqual(canonicalizeUsername(raw), canonicalizeUnicode(raw), JSON.stringify(raw));

  test('every ASCII character alone, and between letters', () => {
    for (const c of ascii) {
      agrees(c);
      agrees(`Al${c}ice`);
    }
  });

  test('random ASCII names of every length around the limit, and a few beyond ASCII', () => {
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    const alphabet = [...ascii, 'ß', 'İ', 'ı', 'ｄ', '\u200b', '\u00a0', 'K', '\u212a'];
    for (let n = 0; n < 4000; n++) {
      const length = n < 300 ? USERNAME_MAX_LENGTH - 2 + (n % 5) : 1 + (next() % 40);
      const plain = n % 2 === 0;
      let raw = '';
      for (let i = 0; i < length; i++)
        raw += plain ? 'aZ09._@+-\\'[next() % 10]! : alphabet[next() % alphabet.length]!;
      agrees(raw);
    }
  });

  test('takes a plain name as its lower case, and leaves a longer one to be refused', () => {
    assert.deepEqual(canonicalizeUsername('CORP\\Alice.Smith+vpn@Example.COM'), {
      ok: true,
      name: 'corp\\alice.smith+vpn@example.com',
    });
    assert.equal(canonicalizeUsername('a'.repeat(USERNAME_MAX_LENGTH)).ok, true);
    assert.equal(canonicalizeUsername('a'.repeat(USERNAME_MAX_LENGTH + 1)).ok, false);
  });
});
