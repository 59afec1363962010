import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';

/** Every mail Tessera sends; each is a pair of files `<name>.txt.eta` and `<name>.html.eta`. */
export const TEMPLATE_NAMES = [
  'invitation',
  'enrolment-done',
  'device-replaced',
  'recovery-code-used',
  'recovery-codes-regenerated',
  'account-locked',
  'temporary-code',
  'admin-failover',
  'admin-directory-sync',
  'admin-push-denied',
  'email-code',
  'sms-code',
] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

export function isTemplateName(v: string): v is TemplateName {
  return (TEMPLATE_NAMES as readonly string[]).includes(v);
}

export const BUILTIN_TEMPLATE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'templates');

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export type TemplateData = Record<string, string | number | boolean>;

/**
 * Renders the mail templates. An operator's directory is looked in first, file by file, so one
 * template can be changed without copying the others. Text is not escaped; HTML is.
 */
export class MailTemplates {
  private readonly text = new Eta({ autoEscape: false, autoTrim: false, cache: false });
  private readonly html = new Eta({ autoEscape: true, autoTrim: false, cache: false });

  constructor(private readonly overrideDir?: string) {}

  private source(file: string): string {
    if (this.overrideDir) {
      const own = join(this.overrideDir, file);
      if (existsSync(own)) return readFileSync(own, 'utf8');
    }
    return readFileSync(join(BUILTIN_TEMPLATE_DIR, file), 'utf8');
  }

  render(name: TemplateName, data: TemplateData): RenderedMail {
    const textOut = this.text.renderString(this.source(`${name}.txt.eta`), data);
    // The text file starts with `Subject: ...` and a blank line.
    const match = /^Subject:[ \t]*(.*)\r?\n\r?\n?/.exec(textOut);
    const subject = (match?.[1] ?? name).replace(/[\r\n]+/g, ' ').trim();
    const text = match ? textOut.slice(match[0].length) : textOut;
    const html = this.html.renderString(this.source(`${name}.html.eta`), data);
    return { subject, text, html };
  }
}
