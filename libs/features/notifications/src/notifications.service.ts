import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DestinationQueue, type Notification } from './destination-queue.js';
import type { NotificationPayload, NotificationSink } from './notification.js';
import { notificationsConfig } from './notifications.config.js';
import { ConsoleSink } from './sinks/console.sink.js';
import { DiscordWebhookSink } from './sinks/discord-webhook.sink.js';
import type { ConfigType } from '#config';
import { Clock, errorMessage, withTimeoutOr, type Timer } from '#resilience';
import { NotificationOutbox, OrderedRetryQueue, WriteBehind, type NewOutboxMessage } from '#storage';

/** How long shutdown waits for queued notifications to go out. */
const SHUTDOWN_FLUSH_MS = 5000;
/** Then, on a shared outbox, the longest wait for a send under way before its rows are handed over. */
const IN_FLIGHT_WAIT_MS = 8000;

/**
 * Notifications for the team, durable and in order: each one is stored in the outbox first, then delivered by its
 * destination's queue. Stored messages are leased to this process while it delivers them: undelivered ones are picked
 * up again when the process starts, and by another replica when this one dies or stops with some left.
 */
@Injectable()
export class Notifications extends WriteBehind implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(Notifications.name);
  private readonly queues = new Map<string, DestinationQueue>();
  /** Where a call's notifications go unless its profile says otherwise (DISCORD_WEBHOOK_URL). */
  private readonly defaults: string[] = [];
  /** Local sinks that see every notification, whatever the call's profile (NOTIFY_CONSOLE). */
  private readonly local: string[] = [];
  private readonly store: OrderedRetryQueue<NewOutboxMessage<NotificationPayload>>;
  /** Observers of deliveries (benchmarks). */
  onDelivered?: (message: Notification, at: number) => void;
  /** Each delivery's lag, from stored to delivered (metrics). */
  private readonly lagObservers: Array<(lagMs: number) => void> = [];
  private leaseTimer?: Timer;
  /**
   * Calls being taken over from another replica: their messages stored here wait until the ones the previous owner
   * left are taken too, so that the call's messages go out in order.
   */
  private readonly held = new Map<string, Notification[]>();
  /** The lease round in progress. */
  private leases?: Promise<void>;
  private leaseFailure = false;
  private stopping = false;

  constructor(
    private readonly outbox: NotificationOutbox,
    @Inject(notificationsConfig.KEY) private readonly config: ConfigType<typeof notificationsConfig>,
    private readonly clock: Clock,
  ) {
    super();
    this.store = new OrderedRetryQueue<NewOutboxMessage<NotificationPayload>>({
      what: 'notifications',
      logger: this.logger,
      take: (queue) => Math.min(queue.length, 200),
      apply: async (messages) => this.dispatch(await this.outbox.enqueue(messages, this.config.leaseMs)),
      clock,
    });
    if (config.discordWebhookUrl) this.defaults.push(this.addDestination(new DiscordWebhookSink(config.discordWebhookUrl, config.requestTimeoutMs)));
    if (config.console) this.local.push(this.addDestination(new ConsoleSink()));
    if (!config.discordWebhookUrl) {
      this.logger.warn('DISCORD_WEBHOOK_URL is not set: calls are not posted anywhere unless their agent profile has a webhook of its own');
    }
  }

  /** Ids of the deployment's default destinations (DISCORD_WEBHOOK_URL), for calls whose profile adds to them. */
  get defaultDestinations(): string[] {
    return [...this.defaults];
  }

  /**
   * Makes a Discord webhook a destination (once per URL) and returns its id, which names it in the outbox, in
   * `call.accepted` and in logs without revealing the URL. Register destinations before the application
   * bootstraps, so that notifications left undelivered by the last run find their queue.
   */
  discordDestination(webhookUrl: string): string {
    return this.addDestination(new DiscordWebhookSink(webhookUrl, this.config.requestTimeoutMs));
  }

  /** The label of a destination (a hash, never its URL), for logs. */
  labelOf(destination: string): string | undefined {
    return this.queues.get(destination)?.label;
  }

  /** Destinations that were disabled (dead webhook), for readiness. */
  get disabledDestinations(): Array<{ label: string; reason: string }> {
    return [...this.queues.values()].flatMap((q) => (q.disabled ? [{ label: q.label, reason: q.disabled }] : []));
  }

  /** Retries and 429s so far, across destinations. */
  get sendStats(): { retries: number; rateLimited: number } {
    let retries = 0;
    let rateLimited = 0;
    for (const queue of this.queues.values()) {
      retries += queue.retries;
      rateLimited += queue.rateLimited;
    }
    return { retries, rateLimited };
  }

  /** Calls `observer` with each delivery's lag in milliseconds (stored → delivered). */
  observeDeliveryLag(observer: (lagMs: number) => void): void {
    this.lagObservers.push(observer);
  }

  /** Notifications stored but not yet delivered, across destinations. */
  get backlog(): number {
    return this.store.backlog + [...this.queues.values()].reduce((n, q) => n + q.depth, 0);
  }

  /**
   * Queues notifications of a call for its destinations (by default the deployment's) and the local sinks. `key`
   * makes them idempotent: notifying the same key again (a replayed event) stores nothing new.
   */
  notify(callId: string | null, key: string, payloads: NotificationPayload[], destinations?: readonly string[]): void {
    const targets = new Set([...(destinations ?? this.defaults), ...this.local]);
    for (const destination of targets) {
      if (!this.queues.has(destination)) continue;
      this.store.push(
        ...payloads.map((payload, index) => ({
          destination,
          callId,
          dedupeKey: payloads.length > 1 ? `${key}#${index}` : key,
          payload,
        })),
      );
    }
  }

  /** Resolves once everything notified so far is stored in the outbox (a hand-over waits for it). */
  flush(): Promise<void> {
    return this.store.flush();
  }

  /**
   * This replica took a live call over: the messages the previous owner left undelivered (stored, leased to it) are
   * taken here and sent first, then what this replica says about the call. `resend` notifies again what the call
   * said so far (under the same keys, so only what the previous owner never stored is stored now).
   */
  async takeOverCall(callId: string, resend: () => void = () => undefined): Promise<void> {
    if (!this.outbox.shared || this.held.has(callId)) return resend();
    this.held.set(callId, []);
    resend();
    // Stored first: a message re-notified after the take-over could be found pending here while being delivered.
    await this.store.flush();
    let adopted: Notification[] = [];
    try {
      adopted = await this.outbox.adoptCall<NotificationPayload>(callId, this.config.leaseMs);
    } catch (error) {
      // Left where they are: they go out once the call's lease is gone (when it ends), late but not lost.
      this.logger.warn(`[${callId}] taking over the call's undelivered notifications failed: ${errorMessage(error)}`);
    }
    const held = this.held.get(callId) ?? [];
    this.held.delete(callId);
    if (adopted.length > 0) this.logger.log(`[${callId}] ${adopted.length} undelivered notification(s) of the call taken over`);
    await this.resume([...adopted, ...held].sort((a, b) => a.id - b.id), 'sending');
  }

  /** Another replica holds the call now: its messages still queued here are left to it (stored, taken there). */
  forgetCall(callId: string): void {
    this.held.delete(callId);
    for (const queue of this.queues.values()) queue.drop(callId);
  }

  /** Resolves once everything notified so far has been delivered or given up on. */
  async idle(): Promise<void> {
    await this.store.flush();
    await Promise.all([...this.queues.values()].map((q) => q.idle()));
  }

  async onApplicationBootstrap(): Promise<void> {
    let adopted: Notification[];
    try {
      adopted = await this.outbox.adopt<NotificationPayload>(this.config.leaseMs, this.adoptable());
    } catch (error) {
      this.logger.error(`could not read undelivered notifications: ${errorMessage(error)}`);
      adopted = [];
    }
    await this.resume(adopted, 'resuming delivery of');
    if (!this.outbox.shared) return;
    // Replicas share the outbox: the leases of what this process stores are renewed, and what another process left
    // (it died, or stopped with messages undelivered) is taken over, a few times per lease.
    this.scheduleLeases(Math.max(500, Math.floor(this.config.leaseMs / 3)));
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    const started = this.clock.now();
    const stored = await this.store.flushWithin(SHUTDOWN_FLUSH_MS);
    const left = Math.max(0, SHUTDOWN_FLUSH_MS - (this.clock.now() - started));
    const delivered =
      stored &&
      (await withTimeoutOr(
        Promise.all([...this.queues.values()].map((q) => q.idle())).then(() => true),
        left,
        false,
        { clock: this.clock },
      ));
    const flushed = stored && delivered;
    for (const queue of this.queues.values()) queue.stop();
    if (!flushed && this.outbox.shared) {
      // A send under way when the queues stopped ends within the request timeout; the rows are handed over only
      // after it, or another replica would send it again at once. The leases are renewed meanwhile. Bounded so that
      // the whole shutdown stays within the 15 s the deployment allows beyond the drain (a longer send may then be
      // sent twice).
      await withTimeoutOr(
        // And a store under way (its rows would be leased to this process after the release).
        Promise.all([this.store.flush(), ...[...this.queues.values()].map((q) => q.quiet())]),
        Math.min(this.config.requestTimeoutMs + 500, IN_FLIGHT_WAIT_MS),
        undefined,
        { clock: this.clock },
      );
    }
    this.clock.clearTimeout(this.leaseTimer);
    this.leaseTimer = undefined;
    await this.leases;
    if (flushed) return;
    // Handed over now rather than when the leases run out: another replica sends them within seconds.
    const released =
      this.outbox.shared &&
      (await this.outbox.releaseLeases().then(
        () => true,
        (error: unknown) => (this.logger.warn(`could not release this process's undelivered notifications: ${errorMessage(error)}`), false),
      ));
    this.logger.warn(
      `stopping with ${this.backlog} notification(s) undelivered; ${released ? 'another replica or ' : ''}the next start sends the stored ones`,
    );
  }

  /** A lease round every `intervalMs` (whether the last one is done or not: `keepLeases` runs one at a time). */
  private scheduleLeases(intervalMs: number): void {
    this.leaseTimer = this.clock.setTimeout(() => {
      this.scheduleLeases(intervalMs);
      void this.keepLeases();
    }, intervalMs);
  }

  /** Renews this process's leases, then adopts what nobody holds any more. One round at a time. */
  private keepLeases(): Promise<void> {
    this.leases ??= (async () => {
      try {
        await this.outbox.renewLeases(this.config.leaseMs);
        if (this.stopping) return; // renewing only: what others left is for a replica that is staying
        const adopted = await this.outbox.adopt<NotificationPayload>(this.config.leaseMs, this.adoptable());
        if (this.leaseFailure) this.logger.log('notification leases renewed again');
        this.leaseFailure = false;
        await this.resume(adopted, 'taking over, from a process that stopped,');
        // At debug level only (every few seconds): lets a test see a round happen instead of sleeping through one.
        this.logger.debug(`notification lease round done: ${adopted.length} taken over`);
      } catch (error) {
        // Said once per outage: the timer tries again every few seconds. Until it works, a replica may adopt (and
        // send again) what this one holds: a duplicate in Discord, never a loss.
        if (!this.leaseFailure) this.logger.warn(`could not renew notification leases: ${errorMessage(error)}`);
        this.leaseFailure = true;
      }
    })().finally(() => (this.leases = undefined));
    return this.leases;
  }

  /** On a shared outbox, only messages for destinations this process knows (a replica that knows the rest sends them). */
  private adoptable(): string[] | undefined {
    return this.outbox.shared ? [...this.queues.keys()] : undefined;
  }

  /** Queues adopted messages; alone, those for destinations no longer configured are recorded as failed. */
  private async resume(adopted: Notification[], doing: string): Promise<void> {
    if (adopted.length === 0) return;
    const orphans = adopted.filter((m) => !this.queues.has(m.destination)).map((m) => m.id);
    if (orphans.length > 0) {
      // Recorded as failed, not left pending: they would be read again at every start, for ever.
      this.logger.warn(`${orphans.length} undelivered notification(s) are for destinations no longer configured: recorded as failed`);
      await this.outbox.markFailed(orphans, 'destination no longer configured').catch((error: unknown) =>
        this.logger.error(`could not record ${orphans.length} orphaned notification(s) as failed: ${errorMessage(error)}`),
      );
    }
    if (adopted.length === orphans.length) return;
    this.logger.log(`${doing} ${adopted.length - orphans.length} undelivered notification(s)`);
    this.dispatch(adopted);
  }

  private addDestination(sink: NotificationSink): string {
    if (!this.queues.has(sink.id)) {
      this.queues.set(
        sink.id,
        new DestinationQueue({
          sink,
          outbox: this.outbox,
          logger: this.logger,
          maxBackoffMs: this.config.maxBackoffMs,
          onDelivered: (message, at) => this.delivered(message, at),
          clock: this.clock,
        }),
      );
    }
    return sink.id;
  }

  private delivered(message: Notification, at: number): void {
    this.onDelivered?.(message, at);
    for (const observer of this.lagObservers) observer(at - message.createdAt.getTime());
  }

  private dispatch(messages: Notification[]): void {
    const byDestination = new Map<string, Notification[]>();
    for (const message of messages) {
      // A message stored before (a replayed event) is delivered by the process that holds it, maybe another replica.
      if (message.status !== 'pending' || message.owner !== this.outbox.owner) continue;
      const held = message.callId !== null ? this.held.get(message.callId) : undefined;
      if (held) {
        held.push(message);
        continue;
      }
      const list = byDestination.get(message.destination) ?? [];
      list.push(message);
      byDestination.set(message.destination, list);
    }
    for (const [destination, list] of byDestination) this.queues.get(destination)?.push(list);
  }
}
