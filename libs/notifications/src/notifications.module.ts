import { Module } from '@nestjs/common';

/** Delivery of announcements and transcript lines to Discord and other sinks (filled by the notifications issue). */
@Module({})
export class NotificationsModule {}
