/**
 * Removes what must never reach a log line. Always: the values of the service's secret variables (API keys, webhook
 * secrets, tokens, Discord webhook URLs, database passwords) and anything shaped like one. Unless PII logging is
 * on: phone numbers and the user part of `sip:`/`tel:` URIs.
 */
export class Redactor {
  private readonly secrets: string[];

  constructor(
    secrets: Iterable<string>,
    private readonly keepPii = false,
  ) {
    // Longest first, so that a secret containing another is removed whole.
    this.secrets = [...new Set([...secrets].filter((s) => s.length >= 6))].sort((a, b) => b.length - a.length);
  }

  /** The secret values in an environment: every `*_KEY`, `*_SECRET`, `*_TOKEN`, `*_PASSWORD` and credentialed URL. */
  static secretsIn(env: Record<string, string | undefined>): string[] {
    const found: string[] = [];
    for (const [name, value] of Object.entries(env)) {
      if (!value) continue;
      if (SECRET_VARIABLE.test(name)) {
        for (const part of value.split(',')) if (part.trim()) found.push(part.trim());
      } else if (name === 'DISCORD_WEBHOOK_URL' || name.endsWith('_WEBHOOK_URL')) {
        found.push(value.trim());
      } else if (/_URL$/.test(name)) {
        const password = /\w+:\/\/[^\s/:@"']+:([^\s/@"']+)@/.exec(value)?.[1];
        if (password) found.push(password, decodeURIComponent(password));
      }
    }
    return found;
  }

  redact(text: string): string {
    // Most lines hold nothing to remove: one scan for what every pattern below needs (and for the secrets) first.
    if (!MAYBE_SENSITIVE.test(text) && !this.secrets.some((secret) => text.includes(secret))) return text;
    let out = text;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join('[secret]');
    out = out
      .replace(DISCORD_WEBHOOK, '[discord-webhook-url]')
      .replace(CREDENTIALS, '$1[credentials]@')
      .replace(BEARER, 'Bearer [secret]')
      .replace(OPENAI_KEY, '[secret]')
      .replace(WEBHOOK_SECRET, '[secret]');
    if (!this.keepPii) out = out.replace(URI_USER, '$1:[redacted]').replace(PHONE, '[phone]');
    return out;
  }
}

/**
 * What any of the patterns below needs to match: a URL (`://`), `Bearer`, `sk-`, `whsec_`, a `+` before a digit, or
 * `sip:`/`sips:`/`tel:`. A line without any of these is returned as it is.
 */
const MAYBE_SENSITIVE = /:\/\/|bearer|sk-|whsec_|\+[1-9]|\b(?:sips?|tel):/i;
const SECRET_VARIABLE = /(_KEY|_SECRET|_TOKEN|_PASSWORD)$/;
const DISCORD_WEBHOOK = /https?:\/\/[^\s"'/]+\/api\/webhooks\/[^\s"'<>]+/g;
const CREDENTIALS = /(\w+:\/\/[^\s/:@"']+):([^\s/@"']+)@/g;
const BEARER = /Bearer\s+[^\s"',]+/gi;
const OPENAI_KEY = /\bsk-[A-Za-z0-9_-]{10,}/g;
const WEBHOOK_SECRET = /\bwhsec_[A-Za-z0-9+/=]{10,}/g;
const URI_USER = /\b(sips?|tel):(?!\[redacted\])[^\s@;>,"']+/g;
const PHONE = /\+[1-9][0-9]{5,14}\b/g;
