// A person's browser, by hand: a cookie jar and form posts, for portal tests over plain HTTP.

/** A browser's cookie jar and form posts, by hand: what the portal sees from a person. */
export class Visitor {
  private readonly jar = new Map<string, string>();
  constructor(private readonly base: string) {}

  private remember(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i);
      const value = pair!.slice(i + 1);
      if (value === '' || /Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(line)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  cookieHeader(): string {
    return this.cookie();
  }

  private cookie(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(path: string): Promise<{ status: number; html: string; res: Response }> {
    const res = await fetch(path.startsWith('http') ? path : `${this.base}${path}`, {
      headers: { cookie: this.cookie() },
      redirect: 'manual',
    });
    this.remember(res);
    return { status: res.status, html: await res.text(), res };
  }

  async post(
    path: string,
    form: Record<string, string>,
  ): Promise<{ status: number; html: string; location: string | null }> {
    const res = await fetch(`${this.base}${path}`, {
      method: 'POST',
      headers: { cookie: this.cookie(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
      redirect: 'manual',
    });
    this.remember(res);
    return { status: res.status, html: await res.text(), location: res.headers.get('location') };
  }
}

export const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

/**
 * Signs `username` in to the portal (PIN or directory password, then a code) and makes a new set
 * of recovery codes there, as the user would; the codes as the page shows them.
 */
export async function recoveryCodesFromPortal(
  base: string,
  username: string,
  password: string,
  code: string,
): Promise<string[]> {
  const v = new Visitor(base);
  const page = await v.get('/portal/');
  const signin = await v.post('/portal/signin', { _csrf: csrfOf(page.html), username, password, code });
  if (signin.status !== 303) throw new Error(`portal sign-in of ${username} failed: ${signin.status}`);
  const home = await v.get('/portal/');
  const made = await v.post('/portal/recovery', { _csrf: csrfOf(home.html) });
  const codes = [...made.html.matchAll(/<code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})<\/code>/g)].map(
    (m) => m[1]!,
  );
  if (codes.length !== 10) throw new Error(`expected 10 recovery codes, the page showed ${codes.length}`);
  return codes;
}
