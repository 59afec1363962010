import { Counter, Gauge, type Registry } from 'prom-client';
import { type SmtpConfig, smtpSender } from './mailer.ts';
import { DEFAULT_QUEUE_OPTIONS, MailQueue, type OutgoingMail, type QueueOptions } from './queue.ts';
import { type DeliveryResult, errorCode, withDeadline } from './sms/types.ts';
import { MailTemplates, type TemplateData, type TemplateName } from './templates.ts';

export interface NotifyConfig {
  /** Absent: no mail is sent (each would-be mail is counted as skipped). */
  smtp?: SmtpConfig;
  /** An operator's templates, looked in before the built-in ones. */
  templateDir?: string;
  /** Templates switched off. */
  disabled: TemplateName[];
  /** Who hears about cluster failovers and directory-sync problems. */
  adminAddresses: string[];
}

export interface NotifyLog {
  warn(obj: object, msg: string): void;
}

/**
 * Mail for people: renders a template and queues it. Never waits for SMTP and never throws at its
 * caller, so a notification can be sent from any path, a login's included.
 */
export class Notifier {
  private readonly templates: MailTemplates;
  private readonly queue: MailQueue | null;
  private readonly sender: ReturnType<typeof smtpSender> | null;
  private readonly disabled: ReadonlySet<TemplateName>;
  private readonly direct: ((mail: OutgoingMail) => Promise<void>) | null;
  readonly sent: Counter<'template'>;
  readonly deadLetters: Counter<'template'>;
  readonly retries: Counter<'template'>;
  readonly skipped: Counter<'template' | 'why'>;

  constructor(
    private readonly config: NotifyConfig,
    registry: Registry,
    private readonly log?: NotifyLog,
    queueOptions: QueueOptions = DEFAULT_QUEUE_OPTIONS,
    send?: (mail: OutgoingMail) => Promise<void>,
  ) {
    this.templates = new MailTemplates(config.templateDir);
    this.disabled = new Set(config.disabled);
    const registers = [registry];
    this.sent = new Counter({
      name: 'tessera_mail_sent_total',
      help: 'Mails the SMTP server accepted',
      labelNames: ['template'],
      registers,
    });
    this.retries = new Counter({
      name: 'tessera_mail_retry_total',
      help: 'Mail tries that failed and will be retried',
      labelNames: ['template'],
      registers,
    });
    this.deadLetters = new Counter({
      name: 'tessera_mail_dead_letter_total',
      help: 'Mails given up on (every try failed, the queue was full, or the node stopped)',
      labelNames: ['template'],
      registers,
    });
    this.skipped = new Counter({
      name: 'tessera_mail_skipped_total',
      help: 'Mails not sent on purpose (template switched off, no SMTP server, no address)',
      labelNames: ['template', 'why'],
      registers,
    });
    const depth = new Gauge({
      name: 'tessera_mail_queue_depth',
      help: 'Mails waiting to be sent',
      registers,
    });
    this.sender = config.smtp && !send ? smtpSender(config.smtp) : null;
    const deliver = send ?? this.sender?.send;
    this.direct = deliver ?? null;
    this.queue = deliver
      ? new MailQueue(deliver, queueOptions, {
          onSent: (m) => this.sent.inc({ template: m.template }),
          onRetry: (m) => this.retries.inc({ template: m.template }),
          onDeadLetter: (m, why) => {
            this.deadLetters.inc({ template: m.template });
            // the address and template only: the body may carry a link or a code
            this.log?.warn({ template: m.template, to: m.to, why }, 'mail given up');
          },
          onDepth: (n) => depth.set(n),
        })
      : null;
  }

  enabled(template: TemplateName): boolean {
    return this.queue !== null && !this.disabled.has(template);
  }

  /** Queues one mail; false when it is not sent (switched off, no SMTP, no address). */
  send(template: TemplateName, to: string | undefined, data: TemplateData): boolean {
    const why = !this.queue
      ? 'no-smtp'
      : this.disabled.has(template)
        ? 'disabled'
        : !to
          ? 'no-address'
          : null;
    if (why || !this.queue || !to) {
      this.skipped.inc({ template, why: why ?? 'no-address' });
      return false;
    }
    let rendered: ReturnType<MailTemplates['render']>;
    try {
      rendered = this.templates.render(template, data);
    } catch (err) {
      // an operator's template that does not render must not break the action that mails
      this.deadLetters.inc({ template });
      this.log?.warn({ template, error: (err as Error).message }, 'mail template does not render');
      return false;
    }
    this.queue.enqueue({ to, template, ...rendered });
    return true;
  }

  /**
   * Sends one mail now, past the queue, and says how it went: for a sign-in code the user waits
   * for, where a retry minutes later is worth nothing and the login must hear of a failure.
   * Never throws; answers within `timeoutMs` (SMTP's own timeouts bound the work behind it).
   */
  async deliver(
    template: TemplateName,
    to: string,
    data: TemplateData,
    timeoutMs: number,
  ): Promise<DeliveryResult> {
    if (!this.direct) return { ok: false, why: 'not-configured', detail: 'no SMTP server' };
    if (this.disabled.has(template))
      return { ok: false, why: 'not-configured', detail: `template ${template} is off` };
    let rendered: ReturnType<MailTemplates['render']>;
    try {
      rendered = this.templates.render(template, data);
    } catch (err) {
      this.log?.warn({ template, error: (err as Error).message }, 'mail template does not render');
      return { ok: false, why: 'not-configured', detail: 'template does not render' };
    }
    const send = this.direct;
    const result = await withDeadline(
      send({ to, template, ...rendered }).then(
        (): DeliveryResult => ({ ok: true }),
        (err: unknown): DeliveryResult => {
          // an SMTP answer (4xx/5xx) is a refusal; anything else never reached a server that answered
          const status = (err as { responseCode?: unknown })?.responseCode;
          return typeof status === 'number'
            ? { ok: false, why: 'refused', detail: `SMTP ${status}` }
            : { ok: false, why: 'unreachable', detail: errorCode(err) };
        },
      ),
      timeoutMs,
    );
    if (result.ok) this.sent.inc({ template });
    return result;
  }

  /** The admins' mails (failover, directory sync). */
  toAdmins(
    template: 'admin-failover' | 'admin-directory-sync' | 'admin-push-denied',
    data: TemplateData,
  ): void {
    if (this.config.adminAddresses.length === 0) {
      this.skipped.inc({ template, why: 'no-address' });
      return;
    }
    for (const to of this.config.adminAddresses) this.send(template, to, data);
  }

  idle(): Promise<void> {
    return this.queue?.idle() ?? Promise.resolve();
  }

  close(): void {
    this.queue?.close();
    this.sender?.close();
  }
}
