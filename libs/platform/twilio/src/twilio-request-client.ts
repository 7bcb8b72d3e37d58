import twilio from 'twilio';

type RequestOptions = Parameters<InstanceType<typeof twilio.RequestClient>['request']>[0];
type RequestClientOptions = ConstructorParameters<typeof twilio.RequestClient>[0];

/**
 * The Twilio SDK's own HTTP client (axios, its 429 retry, its timeout), with one change: when a base URL is given,
 * every request goes there instead of `https://<product>.twilio.com`, keeping the path and query the SDK built
 * (`/2010-04-01/Accounts/{sid}/Conferences/{name}/Participants.json` …). The SDK has no base-URL option; this is
 * its documented seam (`httpClient`), and the only place that knows about it.
 */
export class TwilioRequestClient extends twilio.RequestClient {
  constructor(
    private readonly baseUrl: string | undefined,
    options: RequestClientOptions,
  ) {
    super(options);
  }

  override request<TData>(opts: RequestOptions & { data?: TData }) {
    return super.request<TData>(this.baseUrl === undefined ? opts : { ...opts, uri: rebase(opts.uri, this.baseUrl) });
  }
}

/** `https://api.twilio.com/2010-04-01/X.json?a=1` on `http://127.0.0.1:9/fake` → `http://127.0.0.1:9/fake/2010-04-01/X.json?a=1`. */
export function rebase(uri: string, baseUrl: string): string {
  const target = new URL(uri);
  const base = new URL(baseUrl);
  return `${base.origin}${base.pathname.replace(/\/+$/, '')}${target.pathname}${target.search}`;
}
