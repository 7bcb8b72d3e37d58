import { Injectable, type OnModuleInit } from '@nestjs/common';
import { CONFERENCE_LINK_TTL_MS, ConferenceLinks } from './conference-links.js';
import { RetentionPurger, type PurgeTask } from '#storage';

/** Day-old conference links (a caller's number and CallToken each) go with every storage purge. */
export function conferenceLinksPurge(links: ConferenceLinks): PurgeTask {
  return { name: 'conferenceLinks', purge: (now) => links.deleteCreatedBefore(new Date(now.getTime() - CONFERENCE_LINK_TTL_MS)) };
}

@Injectable()
export class ConferenceRetention implements OnModuleInit {
  constructor(
    private readonly purger: RetentionPurger,
    private readonly links: ConferenceLinks,
  ) {}

  onModuleInit(): void {
    this.purger.register(conferenceLinksPurge(this.links));
  }
}
