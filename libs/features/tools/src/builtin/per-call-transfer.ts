import { Injectable, Logger } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { ToolContext } from '../tool.types.js';
import { HumanTransfer, HumanTransferRoute, type TransferPlan } from './human-transfer.js';
import { SipReferTransfer } from './sip-refer-transfer.js';

/** Which way a call is transferred: a route's plan, or SIP REFER. */
export type TransferChoice = TransferPlan | { kind: 'refer' };

/** The `HumanTransferRoute` providers of the application, found once. */
@Injectable()
export class HumanTransferRoutes {
  private found?: HumanTransferRoute[];

  constructor(private readonly discovery: DiscoveryService) {}

  /** For unit tests: these routes, without an application to discover them in. */
  static of(routes: HumanTransferRoute[]): HumanTransferRoutes {
    const fixed = new HumanTransferRoutes(undefined as unknown as DiscoveryService);
    fixed.found = routes;
    return fixed;
  }

  get all(): HumanTransferRoute[] {
    this.found ??= [
      ...new Set(
        this.discovery
          .getProviders()
          .map((wrapper) => wrapper.instance as unknown)
          .filter((instance): instance is HumanTransferRoute => instance instanceof HumanTransferRoute),
      ),
    ];
    return this.found;
  }
}

/**
 * The `transfer_to_human` strategy, chosen per call: the first route that has a plan for the call (a warm transfer
 * into the call's Twilio conference, when the `#conference` library is in the application and the call came
 * through one), SIP REFER otherwise.
 */
@Injectable()
export class PerCallHumanTransfer extends HumanTransfer {
  private readonly logger = new Logger(PerCallHumanTransfer.name);

  constructor(
    private readonly refer: SipReferTransfer,
    private readonly routes: HumanTransferRoutes,
  ) {
    super();
  }

  get configured(): boolean {
    return this.refer.configured || this.routes.all.some((route) => route.configured);
  }

  get maxDurationMs(): number {
    return Math.max(this.refer.maxDurationMs, ...this.routes.all.map((route) => route.maxDurationMs));
  }

  async route(context: ToolContext): Promise<TransferChoice> {
    for (const route of this.routes.all) {
      const plan = await route.plan(context);
      if (plan) return plan;
    }
    return { kind: 'refer' };
  }

  async transfer(context: ToolContext, reason: string | undefined): Promise<object | void> {
    const choice = await this.route(context);
    this.logger.log(`[${context.callId}] transfer_to_human by ${'run' in choice ? choice.label : 'SIP REFER'}`);
    return 'run' in choice ? choice.run(reason) : this.refer.transfer(context);
  }
}
